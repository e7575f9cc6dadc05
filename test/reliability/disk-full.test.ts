import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { run } from '../helpers/net.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

const MiB = 1024 * 1024;
const code = async (r: Response): Promise<string | undefined> => ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code;

// A real full disk: the store on a 12 MiB tmpfs mounted by the test (CI runs as root, like here).
describe('disk full', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let mnt: string;
  let up: FakeUpstream;
  let srv: TestServer;
  const filler = (): string => join(mnt, 'filler');

  before(async () => {
    dir = await tempDir('diskfull-');
    mnt = join(dir.path, 'mnt');
    await mkdir(mnt);
    const m = await run('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mnt]);
    assert.equal(m.code, 0, `mounting a tmpfs needs root: ${m.stderr}`);
    up = await startFakeUpstream();
    srv = await startServer({ dataDir: join(mnt, 'data'), config: { repos: [{ name: 'local', format: 'docker', type: 'local' }, remoteRepo('hub', up.url)] } });
  });
  after(async () => {
    await srv?.close();
    await up?.close();
    // Lazy: a handle the runtime has not closed yet must not leave the mount behind.
    await run('umount', ['-l', mnt]);
    await dir?.cleanup();
  });

  const blob = (n: number): { bytes: Uint8Array; digest: string } => {
    const bytes = new Uint8Array(randomBytes(n));
    return { bytes, digest: sha256(bytes) };
  };
  const base = (): string => `${srv.url}/repo/local/v2/app`;
  const leftovers = async (): Promise<string[]> => (await readdir(join(mnt, 'data', 'v1', 'tmp')).catch(() => [] as string[]));

  it('a push that does not fit fails with 507, leaves nothing behind, and reads keep working', async () => {
    const small = blob(2 * MiB);
    assert.equal((await fetch(`${base()}/blobs/uploads/?digest=${small.digest}`, { method: 'POST', body: small.bytes })).status, 201);
    await writeFile(filler(), new Uint8Array(7 * MiB));
    const big = blob(4 * MiB);
    const mono = await fetch(`${base()}/blobs/uploads/?digest=${big.digest}`, { method: 'POST', body: big.bytes });
    assert.equal(mono.status, 507);
    assert.equal(await code(mono), 'BLOB_UPLOAD_INVALID');
    assert.equal((await fetch(`${base()}/blobs/${big.digest}`, { method: 'HEAD' })).status, 404);
    assert.deepEqual(await leftovers(), []);
    // Chunked: the failed chunk is taken back, the session stays where it was.
    const start = await fetch(`${base()}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') ?? '', srv.url);
    const p1 = await fetch(loc, { method: 'PATCH', body: big.bytes.subarray(0, MiB), headers: { 'content-range': `0-${MiB - 1}` } });
    assert.equal(p1.status, 202);
    const p2 = await fetch(loc, { method: 'PATCH', body: big.bytes.subarray(MiB), headers: { 'content-range': `${MiB}-${4 * MiB - 1}` } });
    assert.equal(p2.status, 507);
    assert.equal((await fetch(loc)).headers.get('range'), `0-${MiB - 1}`);
    const got = await fetch(`${base()}/blobs/${small.digest}`);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), small.bytes, 'reads keep working');

    // Space comes back: the same session finishes, and a new push works.
    await rm(filler());
    const p3 = await fetch(loc, { method: 'PATCH', body: big.bytes.subarray(MiB), headers: { 'content-range': `${MiB}-${4 * MiB - 1}` } });
    assert.equal(p3.status, 202);
    loc.searchParams.set('digest', big.digest);
    assert.equal((await fetch(loc, { method: 'PUT' })).status, 201);
    const again = blob(MiB);
    assert.equal((await fetch(`${base()}/blobs/uploads/?digest=${again.digest}`, { method: 'POST', body: again.bytes })).status, 201);
  });

  it('a remote fill that hits a full disk fails cleanly; nothing half-written; works once space is back', async () => {
    // 7 MiB are stored by now; 3 more of filler leave less than the 3 MiB this blob needs.
    await writeFile(filler(), new Uint8Array(3 * MiB));
    const b = blob(3 * MiB);
    up.blobs.set(b.digest, b.bytes);
    const r = await fetch(`${srv.url}/repo/hub/v2/x/blobs/${b.digest}`).then(
      async (res) => ({ status: res.status, body: await res.arrayBuffer().then((x) => x.byteLength, () => -1) }),
      () => ({ status: 0, body: -1 }),
    );
    // Either refused up front (507) or cut off mid-body: never a complete, unverified body.
    assert.ok(r.status === 507 || r.body !== b.bytes.byteLength, JSON.stringify(r));
    assert.deepEqual(await leftovers(), []);
    assert.equal((await fetch(`${srv.url}/repo/hub/v2/x/blobs/${b.digest}`, { method: 'HEAD' })).headers.get('x-cache'), 'MISS');
    await rm(filler());
    const ok = await fetch(`${srv.url}/repo/hub/v2/x/blobs/${b.digest}`);
    const body = await ok.arrayBuffer().catch((e: unknown) => {
      throw new Error(`${String(e)}\n${srv.logs.filter((l) => l.includes('warn') || l.includes('error')).join('\n')}`);
    });
    assert.deepEqual(new Uint8Array(body), b.bytes);
  });
});
