import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { freePort } from '../helpers/net.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

const code = async (r: Response): Promise<string | undefined> => ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code;

// More upstream faults: slow drip, a dead CDN behind a redirect, HTML instead of a manifest, a token
// server that fails, and loops through two binaryrepo instances.
describe('upstream faults, continued', () => {
  let up: FakeUpstream;
  let br: TestServer;
  before(async () => {
    up = await startFakeUpstream();
    br = await startServer({ config: { repos: [remoteRepo('hub', up.url, { cache: { negativeTtlSeconds: 0 } })] } });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  it('a slow drip still completes, verified, and is cached', async () => {
    const bytes = new Uint8Array(randomBytes(40_000));
    const d = sha256(bytes);
    up.blobs.set(d, bytes);
    up.behaviour.set(d, { kind: 'drip', chunk: 4000, delayMs: 20 });
    const r = await fetch(`${br.url}/repo/hub/v2/x/blobs/${d}`);
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), bytes);
    // The last byte goes out once verified; the commit (fsync, rename) follows a moment later.
    let cache = '';
    for (let i = 0; i < 50 && cache !== 'HIT'; i++) {
      const h = await fetch(`${br.url}/repo/hub/v2/x/blobs/${d}`, { method: 'HEAD' });
      cache = h.headers.get('x-cache') ?? '';
      assert.ok(cache === 'HIT' || cache === 'COALESCED', cache);
      if (cache !== 'HIT') await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(cache, 'HIT');
    assert.equal(up.count('HEAD', `/blobs/${d}`), 0, 'no upstream HEAD while our own download was committing');
  });

  it('a redirect to a dead CDN → 503/502 with an OCI error, nothing cached, retry works once the CDN is back', async () => {
    const bytes = new Uint8Array(randomBytes(5000));
    const d = sha256(bytes);
    const deadPort = await freePort();
    up.blobs.set(d, bytes);
    up.behaviour.set(d, { kind: 'redirect', location: `http://127.0.0.1:${deadPort}/cdn/${d}` });
    const r = await fetch(`${br.url}/repo/hub/v2/x/blobs/${d}`);
    assert.ok(r.status === 502 || r.status === 503, String(r.status));
    assert.ok(['UPSTREAM_ERROR', 'UNAVAILABLE'].includes((await code(r)) ?? ''));
    up.behaviour.delete(d);
    const ok = await fetch(`${br.url}/repo/hub/v2/x/blobs/${d}`);
    assert.equal(ok.status, 200);
    assert.deepEqual(new Uint8Array(await ok.arrayBuffer()), bytes);
  });

  it('referrers: 404 UNSUPPORTED while the upstream lacks the API (clients fall back), passed through once it has it', async () => {
    const subject = sha256(new Uint8Array([42]));
    const none = await fetch(`${br.url}/repo/hub/v2/x/referrers/${subject}`);
    assert.equal(none.status, 404);
    assert.equal(await code(none), 'UNSUPPORTED');
    const sig = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256(new Uint8Array([1, 2])), size: 10, artifactType: 'application/vnd.example.sig' };
    const sbom = { ...sig, digest: sha256(new Uint8Array([3])), artifactType: 'application/vnd.example.sbom' };
    up.referrers.set(subject, [sig, sbom]);
    const all = await fetch(`${br.url}/repo/hub/v2/x/referrers/${subject}`);
    assert.equal(all.status, 200);
    assert.equal(((await all.json()) as { manifests: unknown[] }).manifests.length, 2);
    const only = await fetch(`${br.url}/repo/hub/v2/x/referrers/${subject}?artifactType=application/vnd.example.sbom`);
    assert.equal(only.headers.get('oci-filters-applied'), 'artifactType');
    assert.deepEqual(((await only.json()) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest), [sbom.digest]);
  });

  it('an upstream that answers HTML instead of a manifest → 502, never cached', async () => {
    up.behaviour.set('html', { kind: 'status', status: 200, body: '<html><body>Please log in to the Wi-Fi</body></html>', contentType: 'text/html' });
    const r = await fetch(`${br.url}/repo/hub/v2/x/manifests/html`);
    assert.equal(r.status, 502);
    assert.equal(await code(r), 'UPSTREAM_ERROR');
    up.behaviour.set('html', { kind: 'status', status: 200, body: '{"hello":"json but not a manifest"}', contentType: 'application/json' });
    assert.equal((await fetch(`${br.url}/repo/hub/v2/x/manifests/html`)).status, 502);
    assert.equal(up.count('GET', '/manifests/html'), 2, 'nothing was cached, so the second request asked again');
  });
});

describe('a token server that fails', () => {
  let reg: { url: string; close: () => Promise<void> };
  let tokens: { url: string; close: () => Promise<void> };
  let br: TestServer;
  let tokenCalls = 0;
  before(async () => {
    const t = new Hono();
    t.get('/token', (c) => {
      tokenCalls++;
      return c.text('token service down', 503);
    });
    tokens = await listenLoopback(t.fetch);
    const r = new Hono();
    r.all('*', (c) => c.json({ errors: [{ code: 'UNAUTHORIZED', message: 'auth' }] }, 401, { 'www-authenticate': `Bearer realm="${tokens.url}/token",service="reg"` }));
    reg = await listenLoopback(r.fetch);
    br = await startServer({ config: { repos: [remoteRepo('hub', reg.url)] } });
  });
  after(() => closeAll(() => br?.close(), () => reg?.close(), () => tokens?.close()));

  it('→ a clear 502/503 OCI error naming the token server, not a hang and not a 401 to our client', async () => {
    const t0 = Date.now();
    const r = await fetch(`${br.url}/repo/hub/v2/x/manifests/v1`);
    assert.ok(r.status === 502 || r.status === 503, String(r.status));
    const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
    assert.ok(['UPSTREAM_ERROR', 'UNAVAILABLE'].includes(body.errors[0]?.code ?? ''), JSON.stringify(body));
    assert.ok(tokenCalls >= 1);
    assert.ok(Date.now() - t0 < 10_000);
  });
});

describe('request loops', () => {
  it("two instances that are each other's upstream: 508 where the request comes back, an error to the client, no hang", async () => {
    // A → F → B → A, where F is a forwarder whose target is set once B exists.
    let target = '';
    const f = new Hono();
    f.all('*', async (c) => {
      const u = new URL(c.req.url);
      const headers = new Headers(c.req.raw.headers);
      headers.delete('host');
      return fetch(`${target}${u.pathname}${u.search}`, { method: c.req.method, headers });
    });
    const fwd = await listenLoopback(f.fetch);
    const a = await startServer({ config: { serverId: 'loop-a', repos: [remoteRepo('hub', `${fwd.url}/repo/hub`)] } });
    const b = await startServer({ config: { serverId: 'loop-b', repos: [remoteRepo('hub', `${a.url}/repo/hub`)] } });
    target = b.url;
    try {
      const t0 = Date.now();
      const r = await fetch(`${a.url}/repo/hub/v2/x/manifests/v1`);
      assert.ok(r.status === 502 || r.status === 508, String(r.status));
      assert.ok(Date.now() - t0 < 10_000, 'no hang');
      assert.ok(a.logs.some((l) => l.includes('"status":508')), 'a refused the request that came back to it');
      const deep = await fetch(`${a.url}/repo/hub/v2/x/manifests/v1`, { headers: { via: Array.from({ length: 20 }, (_, i) => `1.1 proxy-${i}`).join(', ') } });
      assert.equal(deep.status, 508, 'too many hops is taken for a loop');
    } finally {
      await b.close();
      await a.close();
      await fwd.close();
    }
  });
});
