import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parseDigest } from '../../src/storage/digest.ts';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { Behaviour, FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { freePort } from '../helpers/net.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

type OciBody = { errors: Array<{ code: string; message: string }> };

/** Reads a body to the end; resolves with the bytes, or with the error that ended it. */
async function drain(res: Response): Promise<{ bytes?: Buffer; error?: unknown }> {
  try {
    return { bytes: Buffer.from(await res.arrayBuffer()) };
  } catch (error) {
    return { error };
  }
}

describe('remote repo under upstream faults (fake upstream)', () => {
  let up: FakeUpstream;
  let br: TestServer;
  let clock = Date.now();

  before(async () => {
    up = await startFakeUpstream();
    const dead = `http://127.0.0.1:${await freePort()}`;
    br = await startServer({
      config: {
        repos: [
          remoteRepo('hub', up.url, { upstream: { idleTimeoutSeconds: 1, breakerFailures: 1000 }, cache: { tagTtlSeconds: 10 } }),
          remoteRepo('dead', dead, { upstream: { headersTimeoutSeconds: 2 } }),
        ],
      },
      now: () => clock,
    });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  const blobUrl = (d: string): string => `${br.url}/repo/hub/v2/team/x/blobs/${d}`;
  const inStore = async (d: string): Promise<boolean> => {
    const p = parseDigest(d);
    assert.ok(p.ok);
    return (await br.server.blobs.stat(p.digest)) !== null;
  };

  const broken: Array<[string, Behaviour]> = [
    ['wrong bytes for the digest', { kind: 'wrong-bytes' }],
    ['a truncated chunked body', { kind: 'short' }],
    ['a connection reset mid-blob', { kind: 'reset', after: 100_000 }],
    ['a stalled upstream (idle timeout)', { kind: 'stall', after: 100_000 }],
  ];
  for (const [what, behaviour] of broken) {
    it(`${what}: every client fails, nothing enters the cache, the next request retries cleanly`, async () => {
      const bytes = randomBytes(400_000);
      const digest = sha256(bytes);
      up.blobs.set(digest, bytes);
      up.behaviour.set(digest, behaviour);
      const [a, b] = await Promise.all([fetch(blobUrl(digest)), fetch(blobUrl(digest))]);
      const [ra, rb] = await Promise.all([drain(a), drain(b)]);
      for (const [res, r] of [[a, ra], [b, rb]] as const) {
        // A 200 whose body breaks off, or (when the failure came before the headers) an error status.
        if (res.status === 200) assert.ok(r.error !== undefined, `${what}: a 200 body must break off, got ${r.bytes?.byteLength} bytes`);
        else assert.ok(res.status >= 500 && r.error === undefined, `${what}: status ${res.status}`);
      }
      assert.equal(await inStore(digest), false, 'nothing stored');
      up.behaviour.delete(digest);
      const again = await fetch(blobUrl(digest));
      assert.equal(again.status, 200);
      assert.equal(sha256(new Uint8Array(await again.arrayBuffer())), digest);
      // Clients are released once the bytes verify; the commit (fsync + rename) follows right after.
      const until = Date.now() + 5000;
      while (!(await inStore(digest)) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await inStore(digest), true);
      // The failed fill, one resumed attempt that both of its clients share (it fails the same way),
      // and the clean retry once the upstream is healthy.
      assert.equal(up.count('GET', `/blobs/${digest}`), 3, 'one failed fill, one shared resume, one clean retry');
    });
  }

  it('upstream 500 on a blob → 502 UPSTREAM_ERROR naming the upstream status', async () => {
    const digest = sha256(randomBytes(10));
    up.behaviour.set(digest, { kind: 'status', status: 500 });
    const r = await fetch(blobUrl(digest));
    assert.equal(r.status, 502);
    const body = (await r.json()) as OciBody;
    assert.equal(body.errors[0]?.code, 'UPSTREAM_ERROR');
    assert.match(body.errors[0]?.message ?? '', /500/);
  });

  it('upstream 429 with Retry-After → 429 TOOMANYREQUESTS with Retry-After', async () => {
    const digest = sha256(randomBytes(10));
    up.behaviour.set(digest, { kind: 'status', status: 429, retryAfter: '17' });
    const r = await fetch(blobUrl(digest));
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '17');
    assert.equal(((await r.json()) as OciBody).errors[0]?.code, 'TOOMANYREQUESTS');
  });

  it('nothing cached and the upstream unreachable → 503 UNAVAILABLE, never a fake 404', async () => {
    const r = await fetch(`${br.url}/repo/dead/v2/team/x/manifests/1`);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as OciBody).errors[0]?.code, 'UNAVAILABLE');
  });

  it('a manifest whose bytes do not match the announced digest is refused and not cached', async () => {
    const m = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }));
    up.manifests.set('liar', { bytes: m, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    up.behaviour.set('liar', { kind: 'wrong-bytes' });
    up.manifests.set(sha256(m), { bytes: m, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    up.behaviour.set(sha256(m), { kind: 'wrong-bytes' });
    const r = await fetch(`${br.url}/repo/hub/v2/team/x/manifests/${sha256(m)}`);
    assert.equal(r.status, 502);
    await r.body?.cancel();
    const p = parseDigest(sha256(m));
    assert.ok(p.ok);
    assert.equal(await br.server.blobs.stat(p.digest), null);
  });

  for (const [what, behaviour] of [
    ['a 500', { kind: 'status', status: 500 }],
    ['a 429', { kind: 'status', status: 429, retryAfter: '30' }],
    ['a 401', { kind: 'status', status: 401 }],
    ['a 403', { kind: 'status', status: 403 }],
  ] as Array<[string, Behaviour]>) {
    it(`serves the cached tag as STALE when revalidation gets ${what}`, async () => {
      const m = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, note: what, layers: [] }));
      const tag = `t${Math.random().toString(36).slice(2, 8)}`;
      up.manifests.set(tag, { bytes: m, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
      const url = `${br.url}/repo/hub/v2/team/x/manifests/${tag}`;
      const first = await fetch(url);
      assert.equal(first.headers.get('x-cache'), 'MISS');
      await first.body?.cancel();
      up.behaviour.set(tag, behaviour);
      clock += 11_000;
      const stale = await fetch(url);
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get('x-cache'), 'STALE');
      assert.deepEqual(new Uint8Array(await stale.arrayBuffer()), m);
    });
  }
});
