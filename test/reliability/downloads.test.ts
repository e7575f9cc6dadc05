import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { pushBlob, sha256 } from '../helpers/images.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

/**
 * Polls until `cond` holds (or fails after `ms`), running `probe` before each check: waiting for an
 * effect, not sleeping a guess.
 */
async function until(cond: () => boolean, ms: number, what: string, probe?: () => Promise<void>): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    await probe?.();
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A GET that never reads its answer: the socket's buffers fill and the server's writes stall. */
function stalledGet(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => {
      sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: x\r\n\r\n`);
      sock.pause();
      resolve(sock);
    });
    sock.once('error', reject);
  });
}

// Issue 9, items 2 and 15: downloads nobody reads are bounded per client and cut off; a stream
// that fails mid-response leaves only JSON lines on stdout.
describe('downloads that are never read', () => {
  let srv: TestServer;
  const blob = new Uint8Array(randomBytes(32 * 1024 * 1024));
  const digest = sha256(blob);

  before(async () => {
    srv = await startServer({
      config: { http: { sendIdleSeconds: 1, maxDownloadsPerClient: 12 }, repos: [{ name: 'local', format: 'docker', type: 'local' }] },
    });
    await pushBlob(`${srv.url}/repo/local`, 'app', { bytes: blob, digest, mediaType: 'application/octet-stream' });
  });
  after(() => srv?.close());

  it('a client over its open-download limit gets 429; stalled downloads are cut off and their handles freed', async () => {
    const url = `${srv.url}/repo/local/v2/app/blobs/${digest}`;
    const stalled = await Promise.all(Array.from({ length: 12 }, () => stalledGet(url)));
    await until(() => srv.server.downloads.openFor('127.0.0.1') === 12, 5000, 'twelve open downloads');
    const refused = await fetch(url);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal(((await refused.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'TOOMANYREQUESTS');
    // Nobody reads: after sendIdleSeconds the server cuts every one (its file handle closed).
    await until(() => srv.server.downloads.size === 0, 10_000, 'the stalled downloads to be cut off');
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(sha256(new Uint8Array(await ok.arrayBuffer())), digest, 'a reading client is never cut');
    for (const s of stalled) s.destroy();
  });
});

// Deno serves cached files through its own file handle under our watched stream (RuntimeCaps.openFile):
// the same bound and cut-off must hold there, seen from outside the process.
describe('downloads that are never read, on Deno', () => {
  let srv: ProcessServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const blob = new Uint8Array(randomBytes(32 * 1024 * 1024));
  const digest = sha256(blob);

  before(async () => {
    dir = await tempDir('downloads-deno-');
    srv = await startProcessServer('deno', {
      storage: { type: 'fs', path: `${dir.path}/data` },
      http: { sendIdleSeconds: 1, maxDownloadsPerClient: 4 },
      repos: [{ name: 'local', format: 'docker', type: 'local' }],
    }, dir.path);
    await pushBlob(`${srv.url}/repo/local`, 'app', { bytes: blob, digest, mediaType: 'application/octet-stream' });
  });
  after(() => closeAll(() => srv?.stop(), () => dir?.cleanup()));

  it('stalled downloads count against the client (429) and are cut off; a reading client gets every byte, ranges too', async () => {
    const url = `${srv.url}/repo/local/v2/app/blobs/${digest}`;
    const stalled = await Promise.all(Array.from({ length: 4 }, () => stalledGet(url)));
    // Counted as soon as each answer starts streaming: the fifth is refused while they are open.
    let status = 0;
    await until(() => status === 429, 5000, 'the fifth download refused', async () => {
      const r = await fetch(url, { method: 'HEAD' });
      status = r.status;
    });
    // Nobody reads them: once cut off (after sendIdleSeconds) the client may download again.
    let whole: Uint8Array | undefined;
    await until(() => whole !== undefined, 15_000, 'the stalled downloads to be cut off', async () => {
      const r = await fetch(url);
      if (r.status === 200) whole = new Uint8Array(await r.arrayBuffer());
      else await r.body?.cancel();
    });
    assert.equal(sha256(whole ?? new Uint8Array()), digest, 'a reading client is never cut');
    const part = await fetch(url, { headers: { range: 'bytes=1000-1999999' } });
    assert.equal(part.status, 206);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), blob.subarray(1000, 2_000_000));
    for (const s of stalled) s.destroy();
  });
});

describe('stdout stays JSON when a stream fails mid-response (Node process)', () => {
  let up: FakeUpstream;
  let proc: ProcessServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const bytes = randomBytes(400_000);
  const digest = sha256(bytes);

  before(async () => {
    up = await startFakeUpstream();
    up.blobs.set(digest, bytes);
    up.behaviour.set(digest, { kind: 'reset', after: 100_000 });
    dir = await tempDir();
    proc = await startProcessServer('node', { storage: { type: 'fs', path: `${dir.path}/data` }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: up.url } }] }, dir.path);
  });
  after(() => closeAll(() => proc?.stop(), () => up?.close(), () => dir?.cleanup()));

  it('every line of output (stdout and stderr) parses as JSON, and the failure is logged as one', async () => {
    const r = await fetch(`${proc.url}/repo/hub/v2/x/blobs/${digest}`);
    assert.equal(r.status, 200);
    await assert.rejects(r.arrayBuffer(), 'the body broke off');
    await until(() => proc.logs.some((l) => l.includes('fill failed')), 5000, 'the fill failure in the log');
    // And a client that walks away mid-download (the runtime's "aborted" notice).
    const slow = randomBytes(2_000_000);
    up.blobs.set(sha256(slow), slow);
    up.behaviour.set(sha256(slow), { kind: 'drip', chunk: 65536, delayMs: 20 });
    const abort = new AbortController();
    const walk = await fetch(`${proc.url}/repo/hub/v2/x/blobs/${sha256(slow)}`, { signal: abort.signal });
    const reader = walk.body?.getReader();
    await reader?.read();
    abort.abort();
    await until(() => proc.logs.some((l) => l.includes(`/blobs/${sha256(slow)}`)), 5000, 'the aborted request in the log');
    const end = Date.now() + 300;
    await until(() => Date.now() > end, 1000, 'stragglers'); // lines the runtime prints right after the failure
    const notJson = [...proc.logs, ...proc.stderr().split('\n')].filter((l) => {
      if (l.trim() === '') return false;
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson, []);
  });
});
