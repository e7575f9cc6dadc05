import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { utimes } from 'node:fs/promises';
import { runGc } from '../../src/jobs/gc.ts';
import type { GcReport } from '../../src/jobs/gc.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { layout } from '../../src/formats/docker/layout.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

const config = { gc: { graceMinutes: 0 }, repos: [{ name: 'local', format: 'docker', type: 'local' }] };

describe('upload sessions survive a restart', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('restart-');
  });
  after(() => dir?.cleanup());

  it('a chunked upload started before a restart is finished after it', async () => {
    const data = new Uint8Array(randomBytes(300_000));
    const digest = sha256(data);
    const first = await startServer({ config, dataDir: dir.path });
    const start = await fetch(`${first.url}/repo/local/v2/app/blobs/uploads/`, { method: 'POST' });
    const path = new URL(start.headers.get('location') ?? '', first.url).pathname;
    const p1 = await fetch(`${first.url}${path}`, { method: 'PATCH', body: data.subarray(0, 100_000), headers: { 'content-range': '0-99999' } });
    assert.equal(p1.status, 202);
    await first.close();

    const second = await startServer({ config, dataDir: dir.path });
    try {
      const st = await fetch(`${second.url}${path}`);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), '0-99999');
      const p2 = await fetch(`${second.url}${path}`, { method: 'PATCH', body: data.subarray(100_000), headers: { 'content-range': '100000-299999' } });
      assert.equal(p2.status, 202);
      const put = await fetch(`${second.url}${path}?digest=${digest}`, { method: 'PUT' });
      assert.equal(put.status, 201, await put.text());
      const got = new Uint8Array(await (await fetch(`${second.url}/repo/local/v2/app/blobs/${digest}`)).arrayBuffer());
      assert.deepEqual(got, data);
    } finally {
      await second.close();
    }
  });
});

describe('garbage collection', () => {
  let srv: TestServer;
  let keep: TestImage;
  let drop: TestImage;
  before(async () => {
    srv = await startServer({ config });
  });
  after(() => srv?.close());

  const base = (): string => `${srv.url}/repo/local`;
  const blobStatus = async (name: string, d: string): Promise<number> => (await fetch(`${base()}/v2/${name}/blobs/${d}`)).status;

  it('frees the unique layers of a deleted image and keeps shared ones', async () => {
    keep = await makeImage({ layerSizes: [50_000, 60_000] });
    drop = await makeImage({ layerSizes: [70_000] });
    const shared = keep.layers[0];
    assert.ok(shared);
    // `drop` also uses keep's first layer: its manifest lists both.
    const dropManifest = JSON.parse(new TextDecoder().decode(drop.manifest.bytes)) as { layers: unknown[] };
    dropManifest.layers.push({ mediaType: shared.mediaType, size: shared.bytes.byteLength, digest: shared.digest });
    const bytes = new TextEncoder().encode(JSON.stringify(dropManifest));
    drop = { ...drop, layers: [...drop.layers, shared], manifest: { ...drop.manifest, bytes, digest: sha256(bytes) } };
    await pushImage(base(), 'keep', 'v1', keep);
    await pushImage(base(), 'drop', 'v1', drop);
    const dry = await runGc(srv.server, true);
    assert.equal(dry.blobsDeleted, 0, JSON.stringify(dry));

    assert.equal((await fetch(`${base()}/v2/drop/manifests/${drop.manifest.digest}`, { method: 'DELETE' })).status, 202);
    const preview = await runGc(srv.server, true);
    const unique = [drop.config.digest, drop.layers[0]?.digest, drop.manifest.digest];
    assert.deepEqual([...preview.deleted].sort(), [...unique].sort(), 'dry run names exactly what would go');
    assert.equal(await blobStatus('drop', drop.config.digest), 200, 'dry run deletes nothing');

    const r = await runGc(srv.server, false);
    assert.deepEqual([...r.deleted].sort(), [...unique].sort());
    assert.ok(r.bytesFreed > 70_000);
    for (const b of [keep.config, ...keep.layers]) assert.equal(await blobStatus('keep', b.digest), 200);
    assert.equal((await fetch(`${base()}/v2/keep/manifests/v1`)).status, 200);
    assert.equal(await blobStatus('drop', drop.config.digest), 404);
    const gone = parseDigest(drop.config.digest);
    assert.ok(gone.ok);
    assert.equal(await srv.server.blobs.stat(gone.digest), null, 'the file itself is deleted');
  });

  it('gc running during concurrent pushes frees old garbage and loses nothing', async () => {
    // Old garbage: a deleted image whose blobs and links are backdated past the grace period.
    const old = await makeImage({ layerSizes: [20_000] });
    await pushImage(base(), 'old', 'v1', old);
    assert.equal((await fetch(`${base()}/v2/old/manifests/${old.manifest.digest}`, { method: 'DELETE' })).status, 202);
    const past = new Date(Date.now() - 3_600_000);
    for (const b of [old.config, ...old.layers, old.manifest]) {
      const d = parseDigest(b.digest);
      assert.ok(d.ok);
      const path = srv.server.blobs.localPath(d.digest);
      assert.ok(path);
      await utimes(path, past, past);
      const link = layout.dockerLayerLink('local', 'old', d.digest);
      if (await srv.server.meta.exists(link)) await srv.server.meta.put(link, { size: 1, linkedAt: past.getTime() });
    }
    srv.server.config.gc.graceMinutes = 1;
    const imgs = await Promise.all(Array.from({ length: 6 }, () => makeImage({ layerSizes: [40_000, 30_000] })));
    const pushes = imgs.map((img, i) => pushImage(base(), `busy/app${i}`, 'v1', img));
    const gcs = [runGc(srv.server, false), new Promise((r) => setTimeout(r, 5)).then(() => runGc(srv.server, false))];
    const [, , , , , , first, second] = await Promise.all([...pushes, ...gcs]);
    const freed = [...(first as GcReport).deleted, ...(second as GcReport).deleted].sort();
    assert.deepEqual(freed, [old.config.digest, old.manifest.digest, ...old.layers.map((l) => l.digest)].sort());
    for (const [i, img] of imgs.entries()) {
      assert.equal((await fetch(`${base()}/v2/busy/app${i}/manifests/v1`)).status, 200);
      for (const b of [img.config, ...img.layers]) assert.equal(await blobStatus(`busy/app${i}`, b.digest), 200, `busy/app${i} ${b.digest}`);
    }
  });

  it('an upload in progress is untouched; an abandoned one is removed', async () => {
    const start = await fetch(`${base()}/v2/up/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') ?? '', srv.url);
    await fetch(loc, { method: 'PATCH', body: new Uint8Array(1000), headers: { 'content-range': '0-999' } });
    await runGc(srv.server, false);
    assert.equal((await fetch(loc)).status, 204, 'fresh session kept');
    srv.server.config.gc.uploadMaxAgeHours = 0;
    const r = await runGc(srv.server, false);
    assert.equal(r.uploadsDeleted, 1);
    assert.equal((await fetch(loc)).status, 404);
  });
});
