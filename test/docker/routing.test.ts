import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rawRequest } from '../helpers/net.ts';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

describe('routing: every way clients reach a repo', () => {
  let up: FakeUpstream;
  let br: TestServer;
  const blob = randomBytes(1000);
  const digest = sha256(blob);
  const hubUp = { upstream: { libraryPrefix: true } };

  before(async () => {
    up = await startFakeUpstream();
    up.blobs.set(digest, blob);
    br = await startServer({
      config: {
        defaultRepo: 'hub',
        hosts: { 'mirror.example.com': 'other' },
        serverId: 'br-test',
        repos: [remoteRepo('hub', up.url, hubUp), remoteRepo('other', up.url)],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  const status = async (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${br.url}${path}`, { headers });

  it('GET /v2/ answers 200 with the API version header', async () => {
    const r = await status('/v2/');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('docker-distribution-api-version'), 'registry/2.0');
    await r.body?.cancel();
    const rr = await status('/repo/hub/v2/');
    assert.equal(rr.status, 200);
    await rr.body?.cancel();
  });

  it('reaches a repo by /repo/<name>, by the first path segment, by the default repo and by Host', async () => {
    for (const p of [`/repo/hub/v2/library/x/blobs/${digest}`, `/v2/hub/library/x/blobs/${digest}`, `/v2/library/x/blobs/${digest}`]) {
      const r = await status(p);
      assert.equal(r.status, 200, p);
      assert.equal(sha256(new Uint8Array(await r.arrayBuffer())), digest);
    }
    const before = up.count('HEAD', '/blobs/');
    // fetch() will not send a custom Host header; node:http will.
    const r = await rawRequest(br.url, { path: `/v2/team/x/blobs/${digest}`, headers: { host: 'mirror.example.com:8443' } });
    assert.equal(r.status, 200);
    assert.equal(sha256(r.body), digest);
    // `other` had never linked the blob: it asked its upstream before serving the shared copy.
    assert.equal(up.count('HEAD', '/blobs/'), before + 1);
  });

  it("applies Docker Hub's library/ prefix for one-segment names", async () => {
    const r = await status(`/v2/hub/alpine/blobs/${digest}`);
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.ok([...up.calls.keys()].some((k) => k.includes('/v2/library/x/blobs/')));
    assert.ok(![...up.calls.keys()].some((k) => k.includes('/v2/alpine/')), 'never asked for alpine without library/');
  });

  it('rejects invalid names and digests in the OCI envelope', async () => {
    for (const [p, code] of [
      ['/v2/hub/UPPER/manifests/x', 'NAME_INVALID'],
      ['/v2/hub/a/..%2f..%2fetc/manifests/x', 'NAME_INVALID'],
      ['/v2/hub/x/manifests/bad%20tag', 'MANIFEST_UNKNOWN'],
      ['/v2/hub/x/blobs/sha256:123', 'DIGEST_INVALID'],
      ['/v2/hub/x/blobs/md5:abc', 'DIGEST_INVALID'],
      ['/v2/hub/x/nonsense', 'NAME_UNKNOWN'],
    ] as const) {
      const r = await status(p);
      const body = (await r.json()) as { errors: Array<{ code: string }> };
      assert.equal(body.errors[0]?.code, code, p);
      assert.ok(r.status >= 400 && r.status < 500, `${p} → ${r.status}`);
    }
  });

  it('a request carrying our own Via id is a loop → 508', async () => {
    const r = await status(`/v2/hub/x/manifests/1`, { via: '1.1 br-test' });
    assert.equal(r.status, 508);
    await r.body?.cancel();
  });

  it('exposes health and Prometheus metrics', async () => {
    const h = await status('/-/health');
    assert.equal(((await h.json()) as { status: string }).status, 'ok');
    const m = await (await status('/metrics')).text();
    assert.match(m, /# TYPE binaryrepo_http_requests_total counter/);
    assert.match(m, /binaryrepo_cache_results_total\{repo="hub",result="MISS"\} \d+/);
    assert.match(m, /binaryrepo_upstream_requests_total\{repo="hub",status="200"\} \d+/);
  });

  it('logs one JSON line per request with repo, status, cache and timing', () => {
    const lines = br.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'request');
    const hit = lines.find((l) => l['cache'] === 'MISS' && l['repo'] === 'hub');
    assert.ok(hit, 'a MISS line for hub');
    for (const k of ['method', 'path', 'status', 'bytes', 'ms', 'upstreamStatus']) assert.ok(k in hit, k);
  });
});
