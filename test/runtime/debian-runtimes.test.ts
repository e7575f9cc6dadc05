import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildDeb, sh, sha256 } from '../helpers/debian.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 29: a hosted apt suite is signed with WebCrypto's Ed25519, compressed with the runtime's
// CompressionStream and its uploads read with our xz decoder and the runtime's gunzip: Bun and
// Deno must sign what gpgv accepts and index what dpkg-deb built, as Node does.
for (const rt of ['bun', 'deno'] as const) {
  describe(`Debian suites on ${rt}`, () => {
    let work: Awaited<ReturnType<typeof tempDir>>;
    let srv: ProcessServer;
    before(async () => {
      work = await tempDir(`deb-${rt}-`);
      srv = await startProcessServer(rt, { storage: { type: 'fs', path: join(work.path, 'data') }, repos: [{ name: 'debs', format: 'debian', type: 'local', architectures: ['amd64'] }] }, work.path);
    });
    after(async () => {
      await srv?.stop();
      await work?.cleanup();
    });

    it('uploads of xz and gzip debs land in Packages with their SHA256; InRelease and Release.gpg verify with gpgv and the served key', async () => {
      const debs = join(work.path, 'debs');
      const a = await buildDeb(debs, { name: 'rt-xz', version: '1.0', payload: 100_000 });
      const b = await buildDeb(debs, { name: 'rt-gz', version: '2.0', compression: 'gzip' });
      for (const f of [a, b]) {
        const res = await fetch(`${srv.url}/repo/debs/upload/stable/main`, { method: 'PUT', body: await readFile(f) });
        assert.equal(res.status, 201, await res.text());
      }
      const packages = await (await fetch(`${srv.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).text();
      assert.match(packages, new RegExp(`Package: rt-xz\\n[\\s\\S]*?SHA256: ${sha256(await readFile(a))}`));
      assert.match(packages, new RegExp(`Package: rt-gz\\n[\\s\\S]*?SHA256: ${sha256(await readFile(b))}`));
      const gz = new Uint8Array(await (await fetch(`${srv.url}/repo/debs/dists/stable/main/binary-amd64/Packages.gz`)).arrayBuffer());
      assert.equal(new TextDecoder().decode(gunzipSync(gz)), packages);
      const dir = join(work.path, 'gpgv');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'key.gpg'), new Uint8Array(await (await fetch(`${srv.url}/repo/debs/key.gpg`)).arrayBuffer()));
      for (const f of ['InRelease', 'Release', 'Release.gpg']) await writeFile(join(dir, f), new Uint8Array(await (await fetch(`${srv.url}/repo/debs/dists/stable/${f}`)).arrayBuffer()));
      const v1 = await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'InRelease')]);
      assert.equal(v1.code, 0, v1.out);
      const v2 = await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'Release.gpg'), join(dir, 'Release')]);
      assert.equal(v2.code, 0, v2.out);
      const bad = await fetch(`${srv.url}/repo/debs/upload/stable/main`, { method: 'PUT', body: 'not a deb' });
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /not a Debian package/);
    });
  });
}
