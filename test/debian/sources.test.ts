import assert from 'node:assert/strict';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptRoot, archiveKey, buildDeb, buildSource, sha256, writeArchive } from '../helpers/debian.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 29: apt-get source through a remote: the .dsc and its tarball verified against the archive's Sources index.
describe('Debian remote: apt-get source through the cache', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  let key: Awaited<ReturnType<typeof archiveKey>>;
  let src: string[] = [];

  before(async () => {
    work = await tempDir('deb-src-');
    key = await archiveKey(work.path);
    src = await buildSource(join(work.path, 'src'), 'hello-src', '1.0');
    await writeArchive(join(work.path, 'up/debian'), 'stable', [await buildDeb(join(work.path, 'debs'), { name: 'hello-src', version: '1.0', arch: 'all' })], key, { byHash: true, sources: [{ name: 'hello-src', files: src }] });
    up = await startStaticNginx(join(work.path, 'up'), join(work.path, 'ngx'));
    br = await startServer({ config: { repos: [{ name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${up.url}/debian` } }] } });
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  it('apt-get source --download-only fetches the .dsc and the tarball byte for byte; a file no Sources lists is a 404', async () => {
    assert.ok(src.some((f) => f.endsWith('.dsc')) && src.some((f) => f.endsWith('.tar.xz')), src.join(' '));
    const a = await aptRoot(join(work.path, 'apt'), `deb-src [signed-by=${key.pub}] ${br.url}/repo/deb stable main`);
    const u = await a.apt(['update']);
    assert.equal(u.code, 0, u.out);
    const dl = join(work.path, 'dl');
    await mkdir(dl, { recursive: true });
    const s = await a.apt(['source', '--download-only', 'hello-src'], dl);
    assert.equal(s.code, 0, s.out);
    for (const f of src) {
      const name = f.split('/').pop() ?? '';
      assert.ok((await readdir(dl)).includes(name), name);
      assert.equal(sha256(await readFile(join(dl, name))), sha256(await readFile(f)));
    }
    assert.equal((await fetch(`${br.url}/repo/deb/pool/main/h/hello-src/other_1.0.tar.xz`)).status, 404);
  });
});
