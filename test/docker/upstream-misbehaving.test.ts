import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { TokenCache } from '../../src/upstream/auth.ts';
import { sha256 } from '../helpers/images.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

type Listening = Awaited<ReturnType<typeof listenLoopback>>;
type OciBody = { errors: Array<{ code: string; message: string }> };

const MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const manifestOf = (layers: Array<{ digest: string; size: number }>): Uint8Array =>
  new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST_TYPE,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(new Uint8Array([1])), size: 1 },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );

/** An endless chunked body that counts what it managed to send, and how many were asked for. */
function endless(counter: { sent: number; requests: number }): ReadableStream<Uint8Array> {
  counter.requests++;
  const chunk = new Uint8Array(64 * 1024).fill(7);
  return new ReadableStream<Uint8Array>({
    pull(c) {
      counter.sent += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
}

describe('misbehaving upstreams: redirects, encodings, tokens, sizes, loops', () => {
  const cdnCalls = { value: 0 };
  const thirdParty = { requests: 0, withAuthorization: 0 };
  const seenEncoding: string[] = [];
  const plain = randomBytes(300_000);
  const plainDigest = sha256(plain);
  const declaredDigest = sha256(new TextEncoder().encode('declared-1000'));
  const bombDigest = sha256(new TextEncoder().encode('no-length'));
  const declaredSent = { sent: 0, requests: 0 };
  const bombSent = { sent: 0, requests: 0 };
  const tokenGen = { value: 1, requests: 0 };
  let up: Listening;
  let cdn: Listening;
  let third: Listening;
  let br: TestServer;
  let front: TestServer;

  before(async () => {
    third = await listenLoopback((req) => {
      thirdParty.requests++;
      if (req.headers.get('authorization')) thirdParty.withAuthorization++;
      return Response.json({ token: 'stolen', expires_in: 3600 });
    });
    cdn = await listenLoopback(() => {
      cdnCalls.value++;
      return new Response('no', { status: 401, headers: { 'www-authenticate': `Bearer realm="${third.url}/token",service="evil"` } });
    });
    const app = new Hono();
    app.get('/token', (c) => {
      tokenGen.requests++;
      return c.json({ token: `tok-${tokenGen.value}`, expires_in: 3600 });
    });
    // Tokens are checked only under /v2/tok/: a key rotation there invalidates every earlier token.
    app.use('/v2/tok/*', async (c, next) => {
      if (c.req.header('authorization') !== `Bearer tok-${tokenGen.value}`) {
        return c.json({ errors: [{ code: 'UNAUTHORIZED' }] }, 401, { 'www-authenticate': `Bearer realm="${new URL(c.req.url).origin}/token",service="up"` });
      }
      return next();
    });
    app.on(['GET', 'HEAD'], '/v2/:name{.+}/manifests/:ref', (c) => {
      const ref = c.req.param('ref');
      if (ref === 'huge') return c.body(new TextEncoder().encode(`{"schemaVersion":2,"x":"${'a'.repeat(8000)}"}`), 200, { 'content-type': MANIFEST_TYPE });
      const bytes = manifestOf([{ digest: declaredDigest, size: 1000 }]);
      return new Response(c.req.method === 'HEAD' ? null : bytes, { headers: { 'content-type': MANIFEST_TYPE, 'docker-content-digest': sha256(bytes), 'content-length': String(bytes.byteLength) } });
    });
    app.get('/v2/:name{.+}/blobs/:digest', (c) => {
      seenEncoding.push(c.req.header('accept-encoding') ?? '(none)');
      const d = c.req.param('digest');
      if (c.req.param('name') === 'redirected') return c.redirect(`${cdn.url}/blob/${d}`, 307);
      // Compressed in transit whatever was asked, with the compressed length: a broken CDN or proxy.
      if (d === plainDigest) {
        const gz = gzipSync(plain);
        return c.body(gz, 200, { 'content-encoding': 'gzip', 'content-length': String(gz.byteLength), 'content-type': 'application/octet-stream' });
      }
      if (d === declaredDigest) return new Response(endless(declaredSent), { headers: { 'content-type': 'application/octet-stream' } });
      if (d === bombDigest) return new Response(endless(bombSent), { headers: { 'content-type': 'application/octet-stream' } });
      return c.json({ errors: [{ code: 'BLOB_UNKNOWN' }] }, 404);
    });
    up = await listenLoopback(app.fetch);
    br = await startServer({
      config: {
        repos: [
          remoteRepo('hub', up.url, { upstream: { username: 'robot', password: 'secret-for-up-only', breakerFailures: 2 }, manifestMaxBytes: 2048, blobMaxBytes: 2 * 1024 * 1024 }),
        ],
      },
    });
    // A second binaryrepo in front of the first: the proxy-of-a-proxy layout where Via hops add up.
    front = await startServer({ config: { repos: [remoteRepo('chain', `${br.url}/repo/hub`, { upstream: { breakerFailures: 2 } })] } });
  });
  after(() => closeAll(() => front?.close(), () => br?.close(), () => up?.close(), () => cdn?.close(), () => third?.close()));

  it('a redirect target that asks for credentials gets none, now or later (24)', async () => {
    const r = await fetch(`${br.url}/repo/hub/v2/redirected/blobs/${sha256(new Uint8Array([9]))}`);
    assert.equal(r.status, 502);
    assert.equal(((await r.json()) as OciBody).errors[0]?.code, 'UPSTREAM_ERROR');
    assert.equal(cdnCalls.value, 1, 'the CDN was asked once');
    const again = await fetch(`${br.url}/repo/hub/v2/redirected/blobs/${sha256(new Uint8Array([10]))}`);
    assert.equal(again.status, 502);
    await again.body?.cancel();
    const m = await fetch(`${br.url}/repo/hub/v2/other/manifests/v1`);
    assert.equal(m.status, 200);
    await m.body?.cancel();
    assert.equal(thirdParty.requests, 0, 'the third origin named by the CDN was never contacted');
  });

  it('asks for identity encoding, and a gzip-in-transit blob still arrives whole and verified (25)', async () => {
    const r = await fetch(`${br.url}/repo/hub/v2/plain/blobs/${plainDigest}`);
    assert.equal(r.status, 200);
    const got = new Uint8Array(await r.arrayBuffer());
    assert.equal(sha256(got), plainDigest);
    assert.equal(seenEncoding.at(-1), 'identity');
    const warm = await fetch(`${br.url}/repo/hub/v2/plain/blobs/${plainDigest}`);
    assert.equal(warm.headers.get('x-cache'), 'HIT');
    assert.equal(warm.headers.get('content-length'), String(plain.byteLength));
    await warm.body?.cancel();
  });

  it('a token the upstream stops accepting is dropped and renewed once, not reused until it expires (26)', async () => {
    const first = await fetch(`${br.url}/repo/hub/v2/tok/app/manifests/v1`);
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const before = tokenGen.requests;
    tokenGen.value++; // the upstream rotated its key
    const second = await fetch(`${br.url}/repo/hub/v2/tok/app/manifests/v2`);
    assert.equal(second.status, 200, 'the rotated-away token was not the end of it');
    await second.body?.cancel();
    assert.equal(tokenGen.requests, before + 1, 'exactly one fresh token');
    const third2 = await fetch(`${br.url}/repo/hub/v2/tok/app/manifests/v1`);
    assert.equal(third2.status, 200);
    await third2.body?.cancel();
    assert.equal(tokenGen.requests, before + 1, 'the fresh token is reused');
  });

  it("a fill stops at the manifest's declared size, and at blobMaxBytes when nothing declares one (27)", async () => {
    const m = await fetch(`${br.url}/repo/hub/v2/sized/manifests/v1`);
    assert.equal(m.status, 200);
    await m.body?.cancel();
    const r = await fetch(`${br.url}/repo/hub/v2/sized/blobs/${declaredDigest}`);
    await assert.rejects(r.arrayBuffer(), 'the body breaks off instead of completing');
    const b = await fetch(`${br.url}/repo/hub/v2/nolength/blobs/${bombDigest}`);
    await assert.rejects(b.arrayBuffer());
    await br.server.fills.idle();
    // What each failed fill had taken in (the server logs it): never past the declared size or the
    // cap. The client's body resumes once with a fresh fill, which stops the same way: two each.
    const failed = (digest: string): number[] =>
      br.logs
        .map((l) => JSON.parse(l) as { msg?: string; key?: string; bytes?: number })
        .filter((l) => l.msg === 'fill failed; nothing was cached' && l.key === digest)
        .map((l) => l.bytes ?? -1);
    assert.deepEqual(failed(declaredDigest).length, 2);
    assert.ok(failed(declaredDigest).every((n) => n >= 0 && n <= 1000), `declared 1000: ${failed(declaredDigest).join(', ')}`);
    assert.equal(failed(bombDigest).length, 2);
    assert.ok(failed(bombDigest).every((n) => n >= 1024 * 1024 && n <= 2 * 1024 * 1024), `cap 2 MiB: ${failed(bombDigest).join(', ')}`);
    assert.equal(declaredSent.requests, 2);
    assert.equal(bombSent.requests, 2);
  });

  it('a manifest over manifestMaxBytes from upstream is a 502 naming the limit, not a 413 (28)', async () => {
    const r = await fetch(`${br.url}/repo/hub/v2/app/manifests/huge`);
    assert.equal(r.status, 502);
    const body = (await r.json()) as OciBody;
    assert.equal(body.errors[0]?.code, 'UPSTREAM_ERROR');
    assert.match(body.errors[0]?.message ?? '', /manifestMaxBytes/);
  });

  it("a 508 caused by the client's own Via hops is the client's, and never opens the breaker (6)", async () => {
    const hops = Array.from({ length: 16 }, (_, i) => `1.1 proxy-${i}`).join(', ');
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${front.url}/repo/chain/v2/app/manifests/v${i}`, { headers: { via: hops } });
      assert.equal(r.status, 508);
      assert.equal(((await r.json()) as OciBody).errors[0]?.code, 'LOOP_DETECTED');
    }
    const ok = await fetch(`${front.url}/repo/chain/v2/app/manifests/v1`);
    assert.equal(ok.status, 200, 'the breaker is closed: clients without the hops are served');
    await ok.body?.cancel();
  });

  it('the upstream token cache is bounded (5)', async () => {
    const cache = new TokenCache(async () => Response.json({ token: 't', expires_in: 3600 }), Date.now, 1000, 'test');
    const challenge = { scheme: 'bearer' as const, params: { realm: 'http://127.0.0.1:1/token', service: 's' } };
    for (let i = 0; i < 5000; i++) await cache.token(challenge, `repository:random/${i}:pull`, undefined);
    assert.ok(cache.size <= 2048, `${cache.size} tokens kept`);
  });
});
