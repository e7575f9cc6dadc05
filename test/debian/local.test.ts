import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptRoot, archiveKey, buildDeb, sh, sha256, writeArchive } from '../helpers/debian.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';
import { checkStore } from '../../src/jobs/fsck.ts';
import { runGc } from '../../src/jobs/gc.ts';

/** An ar archive of (name, bytes) members, as a .deb is: for packages dpkg-deb would refuse to build. */
function ar(members: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode('!<arch>\n')];
  for (const [name, body] of members) {
    const h = `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'100644'.padEnd(8)}${String(body.byteLength).padEnd(10)}\`\n`;
    parts.push(new TextEncoder().encode(h), body);
    if (body.byteLength % 2) parts.push(new Uint8Array([0x0a]));
  }
  return Buffer.concat(parts);
}

/** A .deb with this control text (tar'd and gzipped by the system's tar), and a small data member. */
async function handMade(dir: string, control: string, opts: { padControl?: number } = {}): Promise<Uint8Array> {
  const d = join(dir, `hand-${Math.random().toString(36).slice(2)}`);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'control'), control);
  if (opts.padControl) await writeFile(join(d, 'big'), new Uint8Array(opts.padControl).map(() => Math.floor(Math.random() * 256)));
  execFileSync('tar', ['-czf', join(d, 'control.tar.gz'), '-C', d, ...(opts.padControl ? ['./control', './big'] : ['./control'])]);
  execFileSync('sh', ['-c', `mkdir -p ${d}/data && echo x > ${d}/data/f && tar -czf ${d}/data.tar.gz -C ${d}/data .`]);
  return ar([
    ['debian-binary', new TextEncoder().encode('2.0\n')],
    ['control.tar.gz', await readFile(join(d, 'control.tar.gz'))],
    ['data.tar.gz', await readFile(join(d, 'data.tar.gz'))],
  ]);
}

// Issue 29: a hosted apt repository (uploads of debs built by dpkg-deb, suites signed with the repo's key) and a virtual repo over it and a remote, used by apt-get.
describe('Debian local and virtual: upload, signed suites, apt-get install from both', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  let key: Awaited<ReturnType<typeof archiveKey>>;
  let clients = 0;
  const debs = (): string => join(work.path, 'debs');

  const upload = async (file: string | Uint8Array, suite = 'stable', comp = 'main'): Promise<Response> =>
    fetch(`${br.url}/repo/debs/upload/${suite}/${comp}`, { method: 'PUT', body: typeof file === 'string' ? await readFile(file) : file });

  /** apt trusting only the repo's served key. */
  const client = async (repo: string, suite = 'stable'): Promise<Awaited<ReturnType<typeof aptRoot>>> => {
    const dir = join(work.path, `apt-${++clients}`);
    await mkdir(dir, { recursive: true });
    const res = await fetch(`${br.url}/repo/${repo}/key.asc`);
    assert.equal(res.status, 200);
    await writeFile(join(dir, `${repo}.asc`), await res.text());
    return aptRoot(dir, `deb [signed-by=${join(dir, `${repo}.asc`)}] ${br.url}/repo/${repo} ${suite} main`);
  };

  before(async () => {
    work = await tempDir('deb-local-');
    key = await archiveKey(work.path);
    const upstream = [await buildDeb(join(work.path, 'updebs'), { name: 'hello-a', version: '9.0', payload: 1000 }), await buildDeb(join(work.path, 'updebs'), { name: 'remote-only', version: '1.0' })];
    await writeArchive(join(work.path, 'up/debian'), 'stable', upstream, key, { byHash: true });
    up = await startStaticNginx(join(work.path, 'up'), join(work.path, 'ngx'));
    br = await startServer({
      config: {
        gc: { graceMinutes: 0 },
        repos: [
          { name: 'debs', format: 'debian', type: 'local', architectures: ['amd64'], maxControlBytes: 65536 },
          { name: 'kept', format: 'debian', type: 'local', architectures: ['amd64'], keepVersions: 2 },
          { name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${up.url}/debian` }, cache: { metadataTtlSeconds: 0 } },
          { name: 'all', format: 'debian', type: 'virtual', members: ['debs', 'deb'], architectures: ['amd64'] },
        ],
      },
    });
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  it('uploads debs built by dpkg-deb (xz, gzip, zstd and uncompressed members; curl -T too), and apt-get installs them with signed-by the served key', async () => {
    const a1 = await buildDeb(debs(), { name: 'hello-a', version: '1.0-1', depends: 'libmine (>= 2)', payload: 400_000 });
    const a2 = await buildDeb(debs(), { name: 'libmine', version: '2.0', compression: 'gzip' });
    const a3 = await buildDeb(debs(), { name: 'tool-all', version: '1:0.5', arch: 'all', compression: 'none' });
    // As Ubuntu's dpkg-deb builds them: control.tar.zst.
    const a4 = await buildDeb(debs(), { name: 'ubuntu-style', version: '2.0-0ubuntu1', compression: 'zstd' });
    for (const f of [a1, a2, a4]) {
      const res = await upload(f);
      assert.equal(res.status, 201, await res.text());
    }
    const curl = await sh('curl', ['-fsS', '-T', a3, `${br.url}/repo/debs/upload/stable/main/`]);
    assert.equal(curl.code, 0, curl.out);
    assert.match(curl.out, /tool-all 1:0\.5 \(all\) in stable\/main: pool\/main\/t\/tool-all\/tool-all_0\.5_all\.deb/);
    const a = await client('debs');
    const u = await a.apt(['update']);
    assert.equal(u.code, 0, u.out);
    assert.doesNotMatch(u.out, /W: |NO_PUBKEY|not signed/, u.out);
    const i = await a.apt(['install', '--download-only', 'hello-a', 'tool-all', 'ubuntu-style']);
    assert.equal(i.code, 0, i.out);
    assert.deepEqual(await a.archives(), ['hello-a_1.0-1_amd64.deb', 'libmine_2.0_amd64.deb', 'tool-all_1%3a0.5_all.deb', 'ubuntu-style_2.0-0ubuntu1_amd64.deb']);
    assert.equal(sha256(await readFile(join(a.dir, 'var/cache/apt/archives/hello-a_1.0-1_amd64.deb'))), sha256(await readFile(a1)));
    // apt-get download too (into the working folder).
    const dl = await a.apt(['download', 'libmine'], debs());
    assert.equal(dl.code, 0, dl.out);
  });

  it('the suite is signed: gpgv accepts InRelease and Release.gpg with the served key, and the Release lists the indexes by SHA256', async () => {
    const dir = join(work.path, 'gpgv');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'key.gpg'), new Uint8Array(await (await fetch(`${br.url}/repo/debs/key.gpg`)).arrayBuffer()));
    for (const f of ['InRelease', 'Release', 'Release.gpg']) await writeFile(join(dir, f), new Uint8Array(await (await fetch(`${br.url}/repo/debs/dists/stable/${f}`)).arrayBuffer()));
    assert.equal((await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'InRelease')])).code, 0);
    assert.equal((await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'Release.gpg'), join(dir, 'Release')])).code, 0);
    // A signature over other bytes fails: the check above can fail.
    await writeFile(join(dir, 'Release'), `${await readFile(join(dir, 'Release'), 'utf8')}X: y\n`);
    assert.notEqual((await sh('gpgv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'Release.gpg'), join(dir, 'Release')])).code, 0);
    // Sequoia's sqv (what apt 3 verifies with; SHA-1 signatures refused) accepts the detached signature too.
    await writeFile(join(dir, 'Release'), new Uint8Array(await (await fetch(`${br.url}/repo/debs/dists/stable/Release`)).arrayBuffer()));
    const sq = await sh('sqv', ['--keyring', join(dir, 'key.gpg'), join(dir, 'Release.gpg'), join(dir, 'Release')]);
    assert.equal(sq.code, 0, sq.out);
    // ... and refuses one made with SHA-1, the policy our signatures are made for.
    const sha1 = await sh('gpg', ['--batch', '--yes', '--homedir', key.home, '--digest-algo', 'SHA1', '--detach-sign', '-o', join(dir, 'sha1.gpg'), join(dir, 'Release')]);
    assert.equal(sha1.code, 0, sha1.out);
    assert.notEqual((await sh('sqv', ['--keyring', key.pub, join(dir, 'sha1.gpg'), join(dir, 'Release')])).code, 0);
    assert.equal((await sh('sqv', ['--keyring', key.pub, join(dir, 'Release.gpg'), join(dir, 'Release')])).code === 0, false, 'another key does not verify our signature');
    const release = await readFile(join(dir, 'InRelease'), 'utf8');
    const packages = new Uint8Array(await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).arrayBuffer());
    assert.match(release, new RegExp(` ${sha256(packages)} +${packages.byteLength} main/binary-amd64/Packages\\n`));
    const byHash = await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/by-hash/SHA256/${sha256(packages)}`);
    assert.equal(sha256(new Uint8Array(await byHash.arrayBuffer())), sha256(packages));
  });

  it('a new version is in the next update; a removed one leaves the index; the previous generation stays by hash', async () => {
    const a = await client('debs');
    assert.equal((await a.apt(['update'])).code, 0);
    const before = await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).text();
    assert.equal((await upload(await buildDeb(debs(), { name: 'libmine', version: '2.1' }))).status, 201);
    assert.equal((await a.apt(['update'])).code, 0);
    const s = await a.apt(['install', '--download-only', '-s', 'libmine']);
    assert.match(s.out, /libmine \(2\.1/, s.out);
    const del = await fetch(`${br.url}/repo/debs/packages/stable/libmine/2.1`, { method: 'DELETE' });
    assert.equal(del.status, 200, await del.text());
    assert.equal((await a.apt(['update'])).code, 0);
    const t = await a.apt(['install', '--download-only', '-s', 'libmine']);
    assert.match(t.out, /libmine \(2\.0/, t.out);
    const old = await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/by-hash/SHA256/${sha256(new TextEncoder().encode(before))}`);
    assert.equal(old.status, 200);
    assert.equal(await old.text(), before);
  });

  it('retention: with keepVersions 2 the two newest versions (dpkg order) stay in the index, an older upload goes', async () => {
    for (const version of ['1.9', '1.10', '1.2', '1:0.1']) {
      const res = await fetch(`${br.url}/repo/kept/upload/stable/main`, { method: 'PUT', body: await readFile(await buildDeb(join(work.path, 'kept'), { name: 'rotating', version })) });
      assert.equal(res.status, 201, await res.text());
    }
    const packages = await (await fetch(`${br.url}/repo/kept/dists/stable/main/binary-amd64/Packages`)).text();
    assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]).sort(), ['1.10', '1:0.1']);
  });

  it('a virtual repo over the local and the remote installs from both, signed with its own key; a name the local hosts never comes from the remote', async () => {
    const a = await client('all');
    const u = await a.apt(['update']);
    assert.equal(u.code, 0, u.out);
    const i = await a.apt(['install', '--download-only', 'hello-a', 'remote-only']);
    assert.equal(i.code, 0, i.out);
    // hello-a 9.0 upstream is newer, but the local member hosts hello-a: only 1.0-1 is offered.
    assert.deepEqual(await a.archives(), ['hello-a_1.0-1_amd64.deb', 'libmine_2.0_amd64.deb', 'remote-only_1.0_amd64.deb']);
    const packages = await (await fetch(`${br.url}/repo/all/dists/stable/main/binary-amd64/Packages`)).text();
    assert.doesNotMatch(packages, /Version: 9\.0/);
    assert.notEqual(await (await fetch(`${br.url}/repo/all/key.asc`)).text(), await (await fetch(`${br.url}/repo/debs/key.asc`)).text());
  });

  it('bad uploads get a clear 400 and publish nothing: not an ar archive, two stanzas, traversal in the name, a hostile Filename, a huge control member', async () => {
    const before = await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).text();
    const cases: Array<[Uint8Array, RegExp]> = [
      [new TextEncoder().encode('just some text, not a package'), /not a Debian package/],
      [await handMade(work.path, 'Package: good\nVersion: 1\nArchitecture: amd64\nDescription: x\n\nPackage: evil\nVersion: 6.6.6\nArchitecture: amd64\n'), /2 stanzas/],
      [await handMade(work.path, 'Package: ../../etc\nVersion: 1\nArchitecture: amd64\n'), /Package .* is not valid/],
      [await handMade(work.path, 'Package: ok\nVersion: 1/../2\nArchitecture: amd64\n'), /Version .* is not valid/],
      [await handMade(work.path, 'Package: ok\nVersion: 1\nArchitecture: amd64\n', { padControl: 200_000 }), /larger than 65536 bytes/],
      [await handMade(work.path, 'Package: ok\nVersion: 1\nArchitecture: s390x\n'), /architecture s390x is not one/],
      [ar([['debian-binary', new TextEncoder().encode('2.0\n')], ['control.tar.gz', new TextEncoder().encode('not gzip')], ['data.tar.gz', new Uint8Array(10)]]), /does not decompress/],
      [ar([['debian-binary', new Uint8Array(1 << 20)], ['control.tar.gz', new Uint8Array(10)], ['data.tar.gz', new Uint8Array(10)]]), /damaged debian-binary/],
    ];
    for (const [body, why] of cases) {
      const res = await upload(body);
      const text = await res.text();
      assert.equal(res.status, 400, text);
      assert.match(text, why);
    }
    // A Filename in the control file is not the index's: ours names the pool path.
    const sneaky = await handMade(work.path, 'Package: sneaky\nVersion: 1\nArchitecture: amd64\nFilename: ../../../etc/shadow\nSHA256: 00\nDescription: fine\n');
    assert.equal((await upload(sneaky)).status, 201);
    const after = await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).text();
    assert.doesNotMatch(after, /evil|etc\/shadow|SHA256: 00\n/);
    assert.match(after, /Package: sneaky\n(?:.*\n)*?Filename: pool\/main\/s\/sneaky\/sneaky_1_amd64\.deb\n/);
    assert.equal(after.replace(/Package: sneaky\n[\s\S]*?\n\n/, ''), before);
    // Traversal in the URL is no path at all.
    assert.equal((await fetch(`${br.url}/repo/debs/pool/main/%2e%2e/%2e%2e/etc/passwd`)).status, 404);
  });

  it('gc keeps what the suites, their kept generations and the caches name, and frees a removed version; fsck finds nothing wrong', async () => {
    const removed = sha256(await readFile(join(debs(), 'libmine_2.1_amd64.deb')));
    const r = await runGc(br.server, false);
    assert.ok(r.deleted.includes(`sha256:${removed}`), 'the removed version\'s bytes went');
    const report = await checkStore(br.server, true);
    assert.deepEqual(report.problems, []);
    for (const repo of ['debs', 'all']) {
      const a = await client(repo);
      assert.equal((await a.apt(['update'])).code, 0);
      const i = await a.apt(['install', '--download-only', 'hello-a', ...(repo === 'all' ? ['remote-only'] : [])]);
      assert.equal(i.code, 0, i.out);
    }
  });
});
