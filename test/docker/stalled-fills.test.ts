import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseDigest } from '../../src/storage/digest.ts';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { Behaviour, FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Reads a body until at least `n` bytes (or its end) arrived, leaving the rest unread; the count read. */
async function readAtLeast(res: Response, n: number): Promise<number> {
  const reader = res.body?.getReader();
  let got = 0;
  while (got < n) {
    const r = await reader?.read();
    if (!r || r.done) break;
    got += r.value.byteLength;
  }
  return got;
}

// Issue 9, item 11: a client must not inherit the failure of a download that stalled, once the
// upstream answers again; a body whose fill breaks goes on with a fresh one.
describe('stalled and failing fills', () => {
  let up: FakeUpstream;
  let br: TestServer;

  before(async () => {
    up = await startFakeUpstream();
    // idle 6 s: a fill that received nothing for 3 s (half of it) takes no new joiners.
    br = await startServer({ config: { repos: [remoteRepo('hub', up.url, { upstream: { idleTimeoutSeconds: 6, breakerFailures: 1000 } })] } });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  const url = (d: string): string => `${br.url}/repo/hub/v2/x/blobs/${d}`;

  /** A random blob the fake upstream serves with `behaviour`: its digest, as text and as the fills key it. */
  const seed = (size: number, behaviour: Behaviour): { digest: string; value: string } => {
    const bytes = randomBytes(size);
    const digest = sha256(bytes);
    const parsed = parseDigest(digest);
    assert.ok(parsed.ok);
    up.blobs.set(digest, bytes);
    up.behaviour.set(digest, behaviour);
    return { digest, value: parsed.digest.value };
  };

  it('a new client does not join a stalled fill; the stalled client itself finishes once its fill is replaced', async () => {
    const { digest, value } = seed(2_000_000, { kind: 'then-ok', first: { kind: 'stall', after: 1_000_000 } });
    const first = await fetch(url(digest));
    const firstBody = first.arrayBuffer();
    const stalled = br.server.fills.inFlight(value);
    assert.ok(stalled, 'the first fill is running');
    await until(() => stalled.written === 1_000_000 && Date.now() - stalled.lastProgressAt > 3100, 10_000, 'the fill to stall');
    const second = await fetch(url(digest));
    assert.equal(second.headers.get('x-cache'), 'MISS', 'a fresh download, not a join');
    assert.equal(sha256(new Uint8Array(await second.arrayBuffer())), digest);
    // Served while the stalled download was still hanging (its idle timeout is 6 s): not after it failed.
    assert.equal(stalled.state, 'running');
    assert.equal(up.count('GET', `/blobs/${digest}`), 2);
    // The first client was mid-body when its fill stalled; it resumes from where it was.
    assert.equal(sha256(new Uint8Array(await firstBody)), digest);
  });

  it('a fill that fails before sending a byte is retried for its client: no error reaches it', async () => {
    const bytes = randomBytes(500_000);
    const digest = sha256(bytes);
    up.blobs.set(digest, bytes);
    up.behaviour.set(digest, { kind: 'then-ok', first: { kind: 'reset', after: 0 } });
    const r = await fetch(url(digest));
    assert.equal(r.status, 200);
    assert.equal(sha256(new Uint8Array(await r.arrayBuffer())), digest);
    assert.equal(up.count('GET', `/blobs/${digest}`), 2, 'one retry');
  });

  it('a body cut mid-way resumes with Range from the cache or a new fill', async () => {
    const bytes = randomBytes(800_000);
    const digest = sha256(bytes);
    up.blobs.set(digest, bytes);
    up.behaviour.set(digest, { kind: 'drip', chunk: 100_000, delayMs: 20 });
    const ac = new AbortController();
    const cut = await fetch(url(digest), { signal: ac.signal });
    const got = await readAtLeast(cut, 200_000);
    ac.abort();
    const rest = await fetch(url(digest), { headers: { range: `bytes=${got}-` } });
    assert.equal(rest.status, 206);
    assert.equal(rest.headers.get('content-range'), `bytes ${got}-${bytes.byteLength - 1}/${bytes.byteLength}`);
    const tail = new Uint8Array(await rest.arrayBuffer());
    assert.deepEqual(tail, new Uint8Array(bytes.subarray(got)));
  });

  it('a client that goes away while its fill waits on a stalled upstream frees its download at once', async () => {
    const { digest, value } = seed(1_500_000, { kind: 'stall', after: 1_000_000 });
    const ac = new AbortController();
    const res = await fetch(url(digest), { signal: ac.signal });
    await readAtLeast(res, 500_000);
    const fill = br.server.fills.inFlight(value);
    assert.ok(fill, 'the fill is running');
    await until(() => fill.written === 1_000_000, 5000, 'the upstream to stall');
    assert.equal(br.server.downloads.openFor('127.0.0.1'), 1);
    ac.abort();
    // The body waits on the fill, which waits on the upstream (idle timeout 6 s): the slot must
    // not wait for that.
    await until(() => br.server.downloads.openFor('127.0.0.1') === 0, 2000, 'the download to be released');
    assert.equal(fill.state, 'running', 'released while the fill still waits on the upstream');
  });
});
