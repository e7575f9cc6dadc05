import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { conformanceSuite } from './conformance-suite.ts';

const local = (name: string, extra: Record<string, unknown> = {}) => ({ name, format: 'docker', type: 'local', ...extra });

describe('local repo: distribution-spec conformance (in-process, Node)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [local('local')] } });
  });
  after(() => srv?.close());
  conformanceSuite(() => `${srv.url}/repo/local`);
});

describe('local repo options', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [local('nodelete', { delete: false }), local('frozen', { immutableTags: true })] } });
  });
  after(() => srv?.close());

  it('delete: false refuses every delete with 405 UNSUPPORTED', async () => {
    const img = await makeImage({ layerSizes: [100] });
    const base = `${srv.url}/repo/nodelete`;
    await pushImage(base, 'app', 'v1', img);
    for (const path of ['manifests/v1', `manifests/${img.manifest.digest}`, `blobs/${img.layers[0]?.digest}`]) {
      const r = await fetch(`${base}/v2/app/${path}`, { method: 'DELETE' });
      assert.equal(r.status, 405, path);
      assert.equal(((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'UNSUPPORTED');
    }
    assert.equal((await fetch(`${base}/v2/app/manifests/v1`)).status, 200);
  });

  it('immutable tags: same digest again is fine, another digest is refused with 409, tags cannot be deleted', async () => {
    const base = `${srv.url}/repo/frozen`;
    const a = await makeImage({ layerSizes: [100] });
    const b = await makeImage({ layerSizes: [120] });
    await pushImage(base, 'app', 'v1', a);
    await pushImage(base, 'app', 'v1', a);
    await pushImage(base, 'app', 'v2', b);
    const r = await fetch(`${base}/v2/app/manifests/v1`, { method: 'PUT', body: b.manifest.bytes, headers: { 'content-type': b.manifest.mediaType } });
    assert.equal(r.status, 409);
    assert.equal(((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'TAG_INVALID');
    assert.equal((await fetch(`${base}/v2/app/manifests/v1`, { method: 'DELETE' })).status, 409);
    assert.equal((await fetch(`${base}/v2/app/manifests/v1`)).headers.get('docker-content-digest'), a.manifest.digest);
  });
});
