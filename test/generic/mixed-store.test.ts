import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { checkStore } from '../../src/jobs/fsck.ts';
import { runMaintenance } from '../../src/jobs/maintenance.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const DAY = 86_400_000;

// Issue 10: Docker images and generic files in one store. gc, eviction, retention and fsck go
// through the format contract: each keeps what either format references, and frees only the rest.
describe('a mixed store: Docker and generic content together', () => {
  let srv: TestServer;
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  let img: TestImage;
  let clock = Date.now();
  const files = new Map<string, Uint8Array>();
  const inStore = async (d: string): Promise<boolean> => {
    const p = parseDigest(d);
    assert.ok(p.ok);
    return (await srv.server.blobs.stat(p.digest)) !== null;
  };

  before(async () => {
    const app = new Hono();
    app.get('/:name', (c) => {
      const b = files.get(c.req.param('name'));
      return b ? new Response(b, { headers: { 'content-length': String(b.byteLength) } }) : c.text('no', 404);
    });
    up = await listenLoopback(app.fetch);
    img = await makeImage({ layerSizes: [50_000, 60_000] });
    srv = await startServer({
      now: () => clock,
      config: {
        gc: { graceMinutes: 0 },
        repos: [
          { name: 'img', format: 'docker', type: 'local' },
          { name: 'files', format: 'generic', type: 'local', allowOverwrite: true, retentionDays: 30 },
          { name: 'dl', format: 'generic', type: 'remote', upstream: { url: up.url }, cache: { maxBytes: 250_000, highWatermark: 0.9, lowWatermark: 0.5 } },
        ],
      },
    });
    await pushImage(`${srv.url}/repo/img`, 'app', 'v1', img);
  });
  after(() => closeAll(() => srv?.close(), () => up?.close()));

  const put = async (path: string, body: Uint8Array): Promise<void> => {
    const r = await fetch(`${srv.url}/repo/files/${path}`, { method: 'PUT', body });
    assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status}`);
  };

  it('gc keeps what either format references, frees the rest; shared content lives while either holds it', async () => {
    const layer = img.layers[0];
    assert.ok(layer);
    await put('same-as-layer.tar.gz', layer.bytes); // the same bytes as a Docker layer: one blob
    const lonely = new Uint8Array(randomBytes(30_000));
    await put('lonely.bin', lonely);
    assert.equal((await fetch(`${srv.url}/repo/files/lonely.bin`, { method: 'DELETE' })).status, 204);
    const first = await runMaintenance(srv.server, false);
    assert.deepEqual(first.gc.deleted, [sha(lonely)], 'only the deleted file went');
    for (const b of [img.config, ...img.layers, img.manifest]) assert.ok(await inStore(b.digest), b.digest);
    // The image goes; the file holding the same bytes keeps the shared blob.
    assert.equal((await fetch(`${srv.url}/repo/img/v2/app/manifests/${img.manifest.digest}`, { method: 'DELETE' })).status, 202);
    for (const l of img.layers) assert.equal((await fetch(`${srv.url}/repo/img/v2/app/blobs/${l.digest}`, { method: 'DELETE' })).status, 202);
    const second = await runMaintenance(srv.server, false);
    assert.ok(await inStore(layer.digest), 'held by the generic file');
    assert.ok(!second.gc.deleted.includes(layer.digest));
    assert.ok(second.gc.deleted.includes(img.layers[1]?.digest ?? ''), 'the other layer, held by nothing, went');
    assert.equal((await fetch(`${srv.url}/repo/files/same-as-layer.tar.gz`, { method: 'DELETE' })).status, 204);
    const third = await runMaintenance(srv.server, false);
    assert.ok(third.gc.deleted.includes(layer.digest), 'now nothing holds it');
  });

  it('eviction of a generic remote cache keeps content a local repo holds; fsck --verify-blobs is clean', async () => {
    const a = new Uint8Array(randomBytes(100_000));
    const b = new Uint8Array(randomBytes(100_000));
    const c = new Uint8Array(randomBytes(100_000));
    for (const [n, bytes] of [['a.bin', a], ['b.bin', b], ['c.bin', c]] as const) files.set(n, bytes);
    await put('also-a.bin', a); // the local repo holds a's bytes too
    for (const n of ['a.bin', 'b.bin', 'c.bin']) {
      clock += 1000;
      const r = await fetch(`${srv.url}/repo/dl/${n}`);
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      await srv.server.fills.idle();
    }
    const reports = await srv.server.evictor.run(false);
    const own = reports.find((r) => r.repos.length === 1 && r.repos[0] === 'dl');
    assert.ok(own, JSON.stringify(reports));
    assert.equal(own.removed['file'], 2, 'the two least recently used files went (down to 50%)');
    assert.equal(own.manifests, 0, 'files are files, not manifests');
    assert.ok(!own.evicted.includes(sha(a)), 'a is evicted from the cache but its bytes stay: the local repo holds them');
    assert.ok(await inStore(sha(a)));
    assert.ok(!(await inStore(sha(b))), 'b went for good');
    assert.ok(await inStore(sha(c)), 'c, the most recent, stayed');
    assert.equal((await fetch(`${srv.url}/repo/dl/c.bin`)).headers.get('x-cache'), 'HIT');
    const report = await checkStore(srv.server, true);
    assert.deepEqual(report.problems, []);
    assert.ok(report.files >= 2, `files counted: ${report.files}`);
  });

  it('retention by age removes generic files not written for retentionDays; gc frees their bytes', async () => {
    const old = new Uint8Array(randomBytes(10_000));
    await put('old.bin', old);
    clock += 31 * DAY;
    const fresh = new Uint8Array(randomBytes(10_000));
    await put('fresh.bin', fresh);
    const run = await runMaintenance(srv.server, false, clock);
    const files_ = run.retention.filter((r) => r.repo === 'files');
    assert.ok(files_.some((r) => r.removed >= 1));
    assert.equal((await fetch(`${srv.url}/repo/files/old.bin`)).status, 404);
    assert.equal((await fetch(`${srv.url}/repo/files/fresh.bin`)).status, 200);
    assert.ok(run.gc.deleted.includes(sha(old)));
  });
});
