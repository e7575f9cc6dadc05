import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { run } from '../helpers/net.ts';
import { startCluster } from '../helpers/replicas.ts';
import type { Cluster } from '../helpers/replicas.ts';
import { s3Env } from '../helpers/s3.ts';
import { closeAll } from '../helpers/teardown.ts';
import { checkDirDigests } from '../helpers/files.ts';

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** storage.redirectBlobs: a stored blob's GET answers 307 to a presigned URL of the bucket (RGW here). */
describe('blob GETs redirected to presigned bucket URLs', () => {
  let c: Cluster;
  let img: TestImage;

  before(async () => {
    c = await startCluster(1, (storage) => ({ storage, repos: [{ name: 'local', format: 'docker', type: 'local' }] }), { redirectBlobs: true, presignSeconds: 60 });
    img = await makeImage({ layerSizes: [2_000_000] });
    await pushImage(`${c.url(0)}/repo/local`, 'team/app', '1', img);
  });
  after(() => closeAll(() => c?.close()));

  it('GET answers 307 to a signed RGW URL that serves the bytes (and ranges); HEAD is answered here', async () => {
    const layer = img.layers[0];
    assert.ok(layer);
    const url = `${c.url(0)}/repo/local/v2/team/app/blobs/${layer.digest}`;
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('docker-content-digest'), layer.digest);
    const loc = new URL(res.headers.get('location') ?? '');
    assert.equal(loc.origin, new URL(s3Env().endpoint).origin);
    assert.ok(loc.searchParams.get('X-Amz-Signature'), 'presigned');
    assert.equal(loc.searchParams.get('X-Amz-Expires'), '60');
    const body = new Uint8Array(await (await fetch(loc)).arrayBuffer());
    assert.equal(sha(body), layer.digest);
    const part = await fetch(loc, { headers: { range: 'bytes=10-19' } });
    assert.equal(part.status, 206);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), layer.bytes.subarray(10, 20));
    // A tampered signature is refused by the bucket: the URL is the only key.
    loc.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    assert.equal((await fetch(loc)).status, 403);
    const head = await fetch(url, { method: 'HEAD', redirect: 'manual' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(layer.bytes.byteLength));
  });

  it('skopeo follows the redirects and gets every blob intact', async () => {
    const out = join(c.dir, 'out');
    const r = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${c.url(0).replace('http://', '')}/local/team/app:1`, `dir:${out}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await checkDirDigests(out), 2);
  });
});
