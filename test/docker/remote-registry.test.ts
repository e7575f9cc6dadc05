import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage, pushPlatforms } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { PULL_ACCEPT, pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

// Pull-through against the real CNCF distribution registry (Debian docker-registry).
describe('docker remote repo against docker-registry', () => {
  let reg: RunningRegistry;
  let br: TestServer;
  let img: TestImage;
  let amd: TestImage;
  let arm: TestImage;
  let clock = Date.now();

  before(async () => {
    reg = await startRegistry();
    img = await makeImage({ layerSizes: [300_000, 50_000, 700_000] });
    await pushImage(reg.url, 'team/alpha', '1', img);
    ({ amd, arm } = await pushPlatforms(reg.url, 'team/multi', '1', { amd: 100_000, arm: 120_000 }));
    br = await startServer({
      config: { repos: [remoteRepo('hub', reg.url, { cache: { tagTtlSeconds: 60, maxStaleSeconds: 0 } })] },
      now: () => clock,
    });
  });
  after(() => closeAll(() => br?.close(), () => reg?.stop()));

  const upstreamGets = (): number => br.server.metrics.upstreamRequests.sum({ repo: 'hub' });

  it('pulls cold (MISS) then warm (HIT) with every digest verified', async () => {
    const cold = await pullImage(`${br.url}/repo/hub`, 'team/alpha', '1');
    assert.equal(cold.manifestDigest, img.manifest.digest);
    assert.equal(cold.blobs, 4);
    assert.deepEqual(cold.cache, ['MISS', 'MISS', 'MISS', 'MISS', 'MISS']);
    const before = upstreamGets();
    // The repository-path method: /v2/<repo>/<image>/..., as podman localhost:port/hub/team/alpha uses it.
    const warm = await pullImage(br.url, 'hub/team/alpha', '1');
    assert.deepEqual(warm.cache, ['HIT', 'HIT', 'HIT', 'HIT', 'HIT']);
    assert.equal(upstreamGets(), before, 'a warm pull makes no upstream request');
  });

  it('serves manifests byte-exact with the upstream media type, digest and length', async () => {
    const res = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`, { headers: { accept: PULL_ACCEPT } });
    const body = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual(body, img.manifest.bytes);
    assert.equal(res.headers.get('content-type'), img.manifest.mediaType);
    assert.equal(res.headers.get('docker-content-digest'), img.manifest.digest);
    assert.equal(res.headers.get('content-length'), String(img.manifest.bytes.byteLength));
  });

  it('asks upstream with the full Accept list even when the client sends a narrow one', async () => {
    const res = await fetch(`${br.url}/repo/hub/v2/team/multi/manifests/1`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
  });

  it('pulls a multi-arch index for each platform', async () => {
    const a = await pullImage(`${br.url}/repo/hub`, 'team/multi', '1', { arch: 'amd64' });
    const b = await pullImage(`${br.url}/repo/hub`, 'team/multi', '1', { arch: 'arm64' });
    assert.equal(a.bytes, amd.config.bytes.byteLength + (amd.layers[0]?.bytes.byteLength ?? 0));
    assert.equal(b.bytes, arm.config.bytes.byteLength + (arm.layers[0]?.bytes.byteLength ?? 0));
  });

  it('answers HEAD with length and digest and no body, for manifests and blobs', async () => {
    const m = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`, { method: 'HEAD' });
    assert.equal(m.status, 200);
    assert.equal(m.headers.get('docker-content-digest'), img.manifest.digest);
    assert.equal(m.headers.get('content-length'), String(img.manifest.bytes.byteLength));
    assert.equal((await m.arrayBuffer()).byteLength, 0);
    const layer = img.layers[2];
    assert.ok(layer);
    const b = await fetch(`${br.url}/repo/hub/v2/team/alpha/blobs/${layer.digest}`, { method: 'HEAD' });
    assert.equal(b.status, 200);
    assert.equal(b.headers.get('content-length'), String(layer.bytes.byteLength));
  });

  it('serves Range requests on cached blobs with 206, and 416 past the end', async () => {
    const layer = img.layers[0];
    assert.ok(layer);
    const url = `${br.url}/repo/hub/v2/team/alpha/blobs/${layer.digest}`;
    const r = await fetch(url, { headers: { range: 'bytes=100-199' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), `bytes 100-199/${layer.bytes.byteLength}`);
    assert.deepEqual(new Uint8Array(await r.arrayBuffer()), layer.bytes.subarray(100, 200));
    const bad = await fetch(url, { headers: { range: `bytes=${layer.bytes.byteLength + 5}-` } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), `bytes */${layer.bytes.byteLength}`);
    await bad.body?.cancel();
  });

  it('refuses pushes with 405 UNSUPPORTED', async () => {
    const r = await fetch(`${br.url}/repo/hub/v2/team/alpha/blobs/uploads/`, { method: 'POST' });
    assert.equal(r.status, 405);
    const body = (await r.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]?.code, 'UNSUPPORTED');
    const del = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    await del.body?.cancel();
  });

  it('says MANIFEST_UNKNOWN only when the upstream said so', async () => {
    const r = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/nope`);
    assert.equal(r.status, 404);
    assert.equal(((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'MANIFEST_UNKNOWN');
  });

  it('revalidates a tag after its TTL: same digest → REVALIDATED, new digest → MISS', async () => {
    clock += 61_000;
    const same = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`, { headers: { accept: PULL_ACCEPT } });
    assert.equal(same.headers.get('x-cache'), 'REVALIDATED');
    await same.body?.cancel();
    const fresh = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`);
    assert.equal(fresh.headers.get('x-cache'), 'HIT');
    await fresh.body?.cancel();
    const next = await makeImage({ layerSizes: [10_000] });
    await pushImage(reg.url, 'team/alpha', '1', next);
    clock += 61_000;
    const moved = await fetch(`${br.url}/repo/hub/v2/team/alpha/manifests/1`);
    assert.equal(moved.headers.get('x-cache'), 'MISS');
    assert.equal(moved.headers.get('docker-content-digest'), next.manifest.digest);
    await moved.body?.cancel();
    await pushImage(reg.url, 'team/alpha', '1', img);
  });
});
