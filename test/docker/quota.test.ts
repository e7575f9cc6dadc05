import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runMaintenance } from '../../src/jobs/maintenance.ts';
import { makeImage, pushBlob, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const sizeOf = (i: TestImage): number => [i.config, ...i.layers, i.manifest].reduce((a, b) => a + b.bytes.byteLength, 0);

// A local repo's storage quota: distinct blobs and manifests counted once, pushes past the limit
// refused with DENIED, content already held never refused, space given back by deletes + gc.
describe('storage quota of a local repo', () => {
  let srv: TestServer;
  let a: TestImage;
  let b: TestImage;
  const base = (): string => `${srv.url}/repo/q`;

  before(async () => {
    a = await makeImage({ layerSizes: [60_000] });
    b = await makeImage({ layerSizes: [50_000] });
    srv = await startServer({
      config: {
        gc: { graceMinutes: 0 },
        // Room for one of the two images, not both.
        repos: [{ name: 'q', format: 'docker', type: 'local', maxBytes: sizeOf(a) + 10_000 }, { name: 'free', format: 'docker', type: 'local' }],
      },
    });
  });
  after(() => srv?.close());

  it('refuses the upload that would pass the quota, with DENIED and the numbers', async () => {
    await pushImage(base(), 'app', 'v1', a);
    await pushImage(base(), 'copy', 'v1', a); // the same blobs under another image: nothing new to count
    await pushImage(base(), 'app', 'again', a);
    const layer = b.layers[0];
    assert.ok(layer);
    await pushBlob(base(), 'other', b.config); // small enough
    const start = await fetch(`${base()}/v2/other/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') ?? '', base());
    loc.searchParams.set('digest', layer.digest);
    const put = await fetch(loc, { method: 'PUT', body: layer.bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(put.status, 403);
    const err = ((await put.json()) as { errors: Array<{ code: string; message: string; detail: { used: number; limit: number } }> }).errors[0];
    assert.equal(err?.code, 'DENIED');
    assert.match(err?.message ?? '', /quota of repository q exceeded/);
    assert.equal(err?.detail.limit, sizeOf(a) + 10_000);
    const manifest = await fetch(`${base()}/v2/other/manifests/v1`, { method: 'PUT', body: b.manifest.bytes, headers: { 'content-type': b.manifest.mediaType } });
    assert.equal(manifest.status, 404, 'the image cannot be completed without its layer');
    // Other repos are not limited by q's quota.
    await pushImage(`${srv.url}/repo/free`, 'other', 'v1', b);
  });

  it('deletes and gc give the space back', async () => {
    for (const image of ['app', 'copy']) {
      assert.equal((await fetch(`${base()}/v2/${image}/manifests/${a.manifest.digest}`, { method: 'DELETE' })).status, 202);
    }
    await runMaintenance(srv.server, false);
    await pushImage(base(), 'other', 'v1', b);
    const pulled = await fetch(`${base()}/v2/other/manifests/v1`);
    assert.equal(pulled.headers.get('docker-content-digest'), b.manifest.digest);
  });
});
