import assert from 'node:assert/strict';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptRoot, archiveKey, buildDeb, sha256, writeArchive } from '../helpers/debian.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const MISMATCH = /Hash Sum mismatch|unexpected size|Mirror sync in progress/i;

// Issue 29: an apt remote over a Debian archive built by the tests (apt-ftparchive + gpg, served by nginx), used by this machine's apt-get.
describe('Debian remote: apt-get through a pull-through cache of a signed archive', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let key: Awaited<ReturnType<typeof archiveKey>>;
  let rotate: (() => Promise<void>) | undefined;
  let clients = 0;
  const root = (): string => join(work.path, 'up/debian');

  const client = async (): Promise<Awaited<ReturnType<typeof aptRoot>>> => aptRoot(join(work.path, `apt-${++clients}`), `deb [signed-by=${key.pub}] ${br.url}/repo/deb stable main`);

  before(async () => {
    work = await tempDir('deb-remote-');
    key = await archiveKey(work.path);
    const debs = join(work.path, 'debs');
    const made = [
      await buildDeb(debs, { name: 'hello-a', version: '1.0-1', depends: 'libdep-b (>= 2)', payload: 300_000 }),
      await buildDeb(debs, { name: 'libdep-b', version: '2.1-1', payload: 2_000_000 }),
      await buildDeb(debs, { name: 'noarch-c', version: '1:3.0', arch: 'all', compression: 'gzip' }),
    ];
    await writeArchive(root(), 'stable', made, key, { byHash: true });
    up = await startStaticNginx(join(work.path, 'up'), join(work.path, 'ngx'));
    relay = await startRelay(up.url, {
      onResponse: async (_m, path) => {
        if (rotate && path.endsWith('/InRelease')) {
          const r = rotate;
          rotate = undefined;
          await r();
        }
      },
    });
    br = await startServer({ config: { repos: [{ name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${relay.url}/debian`, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }] } });
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('apt-get update and install --download-only cold, then warm from the cache: the archive signature checks, each file fetched upstream once', async () => {
    const a = await client();
    const u = await a.apt(['update']);
    assert.equal(u.code, 0, u.out);
    assert.doesNotMatch(u.out, /W: |NO_PUBKEY|not signed/, u.out);
    const i = await a.apt(['install', '--download-only', 'hello-a', 'noarch-c']);
    assert.equal(i.code, 0, i.out);
    assert.deepEqual(await a.archives(), ['hello-a_1.0-1_amd64.deb', 'libdep-b_2.1-1_amd64.deb', 'noarch-c_1%3a3.0_all.deb']);
    const pooled = await readFile(join(root(), 'pool/main/libd/libdep-b/libdep-b_2.1-1_amd64.deb'));
    assert.equal(sha256(await readFile(join(a.dir, 'var/cache/apt/archives/libdep-b_2.1-1_amd64.deb'))), sha256(pooled));
    // apt asked for the indexes by hash (the archive says Acquire-By-Hash), and so did the cache.
    assert.ok(relay.count('GET', '/by-hash/SHA256/') >= 1, [...relay.requests.keys()].join('\n'));
    const before = relay.count('GET', '/pool/');
    assert.equal(before, 3);
    const b = await client();
    assert.equal((await b.apt(['update'])).code, 0);
    const j = await b.apt(['install', '--download-only', 'hello-a', 'noarch-c']);
    assert.equal(j.code, 0, j.out);
    assert.equal(relay.count('GET', '/pool/'), before, 'warm: no pool file asked upstream again');
  });

  it('the InRelease is the archive\'s own bytes; an index the Release does not list is a 404', async () => {
    const res = await fetch(`${br.url}/repo/deb/dists/stable/InRelease`);
    assert.equal(res.status, 200);
    assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(await readFile(join(root(), 'dists/stable/InRelease'))));
    assert.equal((await fetch(`${br.url}/repo/deb/dists/stable/main/binary-amd64/Packages.bz2`)).status, 404);
    assert.equal((await fetch(`${br.url}/repo/deb/pool/main/n/nothere/nothere_1_amd64.deb`)).status, 404);
    assert.equal((await fetch(`${br.url}/repo/deb/dists/stable/../../etc/passwd`)).status, 404);
  });

  it('an archive rotated to a new generation between InRelease and the indexes: zero Hash Sum mismatches, and the next update sees the new package', async () => {
    const debs = join(work.path, 'debs2');
    const added = await buildDeb(debs, { name: 'newpkg-d', version: '0.1', payload: 5000 });
    rotate = () => writeArchive(root(), 'stable', [added], key, { byHash: true });
    const a = await client();
    const u = await a.apt(['update']);
    assert.equal(rotate, undefined, 'the archive rotated during the update');
    // That update kept to the generation before the rotation, whose indexes it was given by hash.
    const lists = await readdir(join(a.dir, 'var/lib/apt/lists'));
    const listed = await readFile(join(a.dir, 'var/lib/apt/lists', lists.find((f) => f.endsWith('InRelease')) ?? 'none'));
    assert.equal(sha256(listed), sha256(await readFile(join(root(), 'dists/stable.old/InRelease'))));
    assert.equal(u.code, 0, u.out);
    assert.doesNotMatch(u.out, MISMATCH);
    // newpkg-d is not in that generation yet.
    assert.notEqual((await a.apt(['install', '--download-only', 'newpkg-d'])).code, 0);
    const v = await a.apt(['update']);
    assert.doesNotMatch(v.out, MISMATCH);
    assert.equal(v.code, 0, v.out);
    const i = await a.apt(['install', '--download-only', 'newpkg-d']);
    assert.equal(i.code, 0, i.out);
  });

  it('a .deb changed upstream under the same name is refused against the index, never served or kept', async () => {
    const path = 'pool/main/n/newpkg-d/newpkg-d_0.1_amd64.deb';
    const good = await readFile(join(root(), path));
    // A fresh cache (nothing of it stored), the pool file swapped upstream after the index named it.
    const br2 = await startServer({ config: { repos: [{ name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${relay.url}/debian` }, cache: { metadataTtlSeconds: 0 } }] } });
    try {
      const a = await aptRoot(join(work.path, 'apt-swap'), `deb [signed-by=${key.pub}] ${br2.url}/repo/deb stable main`);
      assert.equal((await a.apt(['update'])).code, 0);
      await writeFile(join(root(), path), new Uint8Array([...good.subarray(0, good.byteLength - 4), 0, 0, 0, 0]));
      const i = await a.apt(['install', '--download-only', 'newpkg-d']);
      assert.notEqual(i.code, 0, i.out);
      assert.deepEqual(await a.archives(), []);
      // Streamed while verified: the bytes that do not match end in a cut body, never a complete one.
      const again = await fetch(`${br2.url}/repo/deb/${path}`);
      await assert.rejects(again.arrayBuffer());
      assert.ok(br2.logs.some((l) => /digest|mismatch|verif/i.test(l)), br2.logs.slice(-5).join('\n'));
      await writeFile(join(root(), path), good);
      const ok = await a.apt(['install', '--download-only', 'newpkg-d']);
      assert.equal(ok.code, 0, ok.out);
    } finally {
      await br2.close();
    }
  });

  it('with the upstream stopped: update and install keep working from the cached generation', async () => {
    const a = await client();
    assert.equal((await a.apt(['update'])).code, 0);
    await up.stop();
    try {
      const b = await client();
      const u = await b.apt(['update']);
      assert.equal(u.code, 0, u.out);
      assert.doesNotMatch(u.out, /Err:|W: /, u.out);
      const i = await b.apt(['install', '--download-only', 'hello-a', 'newpkg-d']);
      assert.equal(i.code, 0, i.out);
    } finally {
      await up.restart();
    }
    await rm(join(work.path, 'apt-1'), { recursive: true, force: true });
  });

  it('a Packages.gz the Release lists but the mirror lacks: pool files are verified against the next index it has (Packages.xz)', async () => {
    const dir = join(root(), 'dists/stable/main/binary-amd64');
    const gz = await readFile(join(dir, 'Packages.gz'));
    await rm(join(dir, 'Packages.gz'));
    await rm(join(dir, 'by-hash/SHA256', sha256(gz)));
    const br3 = await startServer({ config: { repos: [{ name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${relay.url}/debian` } }] } });
    try {
      assert.equal((await fetch(`${br3.url}/repo/deb/dists/stable/InRelease`)).status, 200);
      const path = 'pool/main/h/hello-a/hello-a_1.0-1_amd64.deb';
      const res = await fetch(`${br3.url}/repo/deb/${path}`);
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(await readFile(join(root(), path))));
    } finally {
      await br3.close();
      await writeFile(join(dir, 'Packages.gz'), gz);
    }
  });
});
