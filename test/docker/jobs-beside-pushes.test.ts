import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { runGc } from '../../src/jobs/gc.ts';
import { layout } from '../../src/formats/docker/layout.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { LAYOUT_VERSION, layout as coreLayout } from '../../src/storage/layout.ts';
import type { MetaStore } from '../../src/storage/meta-store.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/**
 * Fault injection: the next call of `meta[method]` whose key matches (one a job makes mid-run)
 * waits until released, so a test knows the job is in the middle of its run, and stays there,
 * while it pushes.
 */
function pauseAt(meta: MetaStore, method: 'list' | 'delete', match: (key: string) => boolean): { reached: Promise<void>; release: () => void } {
  const original = meta[method];
  let arrived!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const gate = new Promise<void>((r) => (release = r));
  const paused = async function (this: MetaStore, key: string): Promise<never> {
    const call = (): Promise<never> => (original as (k: string) => Promise<never>).call(meta, key);
    if (!match(key)) return call();
    meta[method] = original as never;
    arrived();
    await gate;
    return call();
  };
  meta[method] = paused as never;
  return { reached, release };
}

/** A bound on a step that must not wait for a paused job: without it a regression would hang. */
function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} waited for the paused job`)), 30_000)));
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

const digestOf = (d: string) => {
  const p = parseDigest(d);
  assert.ok(p.ok, d);
  return p.digest;
};

describe('gc and eviction run beside pushes (issue 13)', () => {
  let srv: TestServer;
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
  });
  after(async () => {
    await srv?.close();
    await reg?.stop();
  });

  it("a push in the middle of gc's mark finishes before the gc does, and the old blobs it reuses survive", async () => {
    srv = await startServer({ config: { gc: { graceMinutes: 1 }, repos: [{ name: 'local', format: 'docker', type: 'local' }] } });
    const base = `${srv.url}/repo/local`;
    // Garbage: an image whose manifest is deleted, with its blobs and links backdated past the grace period.
    const old = await makeImage({ layerSizes: [30_000, 40_000] });
    await pushImage(base, 'old', 'v1', old);
    assert.equal((await fetch(`${base}/v2/old/manifests/${old.manifest.digest}`, { method: 'DELETE' })).status, 202);
    const past = new Date(Date.now() - 3_600_000);
    for (const b of [old.config, ...old.layers, old.manifest]) {
      const d = digestOf(b.digest);
      const path = srv.server.blobs.localPath(d);
      assert.ok(path);
      await utimes(path, past, past);
      const link = layout.dockerLayerLink('local', 'old', d);
      if (await srv.server.meta.exists(link)) await srv.server.meta.put(link, { size: 1, linkedAt: past.getTime() });
    }
    const dry = await runGc(srv.server, true);
    assert.deepEqual([...dry.deleted].sort(), [old.config.digest, old.manifest.digest, ...old.layers.map((l) => l.digest)].sort(), 'all of it is garbage before the push');

    const pause = pauseAt(srv.server.meta, 'list', (k) => k === `${LAYOUT_VERSION}/repos`);
    let gcDone = false;
    const gc = runGc(srv.server, false).finally(() => (gcDone = true));
    await pause.reached;
    // Mid-mark: reuse every old blob by mounting it (its file keeps its old mtime), push the same
    // manifest under a new name, and a fresh image beside it.
    for (const b of [old.config, ...old.layers]) {
      const r = await within(fetch(`${base}/v2/new/blobs/uploads/?mount=${b.digest}&from=old`, { method: 'POST' }), 'a mount');
      assert.equal(r.status, 201, `mount ${b.digest}`);
    }
    const put = await within(fetch(`${base}/v2/new/manifests/v2`, { method: 'PUT', body: old.manifest.bytes, headers: { 'content-type': old.manifest.mediaType } }), 'a manifest PUT');
    assert.equal(put.status, 201, await put.text());
    const fresh = await makeImage({ layerSizes: [50_000] });
    await within(pushImage(base, 'fresh', 'v1', fresh), 'a push');
    assert.equal(gcDone, false, 'every push finished while gc was still in its mark');

    pause.release();
    const report = await gc;
    assert.deepEqual(report.deleted, [], 'nothing the pushes used was deleted');
    for (const [name, img, tag] of [['new', old, 'v2'], ['fresh', fresh, 'v1']] as const) {
      // pullImage checks every blob's digest and size.
      const pulled = await pullImage(base, name, tag);
      assert.equal(pulled.manifestDigest, img.manifest.digest);
      assert.equal(pulled.blobs, 1 + img.layers.length);
    }
    // The next run no longer remembers the uses; the new manifest is what keeps the blobs now.
    const again = await runGc(srv.server, false);
    assert.deepEqual(again.deleted, []);
    assert.ok(again.linksDeleted >= 3, `old's expired links go: ${JSON.stringify(again)}`);
    await srv.close();
  });

  it('eviction of a remote cache in the middle of its run does not hold up a local push of the same content', async () => {
    const cold = await makeImage({ layerSizes: [100_000] });
    const warm = await makeImage({ layerSizes: [100_000] });
    for (const [n, i] of [['cold', cold], ['warm', warm]] as const) await pushImage(reg.url, `team/${n}`, '1', i);
    let clock = 1_000_000;
    const size = (i: TestImage): number => [i.config, ...i.layers, i.manifest].reduce((a, b) => a + b.bytes.byteLength, 0);
    srv = await startServer({
      now: () => clock,
      config: { repos: [remoteRepo('hub', reg.url, { cache: { maxBytes: size(cold) + size(warm), highWatermark: 0.9, lowWatermark: 0.6 } }), { name: 'mine', format: 'docker', type: 'local' }] },
    });
    for (const n of ['cold', 'warm']) {
      clock += 1000;
      await pullImage(`${srv.url}/repo/hub`, `team/${n}`, '1');
    }
    await srv.server.fills.idle();
    const plan = (await srv.server.evictor.run(true))[0];
    assert.ok(plan?.evicted.includes(cold.layers[0]?.digest ?? ''), `the least recently used image goes: ${JSON.stringify(plan)}`);

    // Paused at its first removal of a cached document: it has planned, and what other repos hold
    // was read before the push below, so only the barrier can keep the pushed content.
    const pause = pauseAt(srv.server.meta, 'delete', (k) => k.startsWith(`${coreLayout.repoRoot('hub')}/`));
    let evictDone = false;
    const evicting = srv.server.evictor.run(false).finally(() => (evictDone = true));
    await pause.reached;
    await within(pushImage(`${srv.url}/repo/mine`, 'copy', 'v1', cold), 'a local push');
    assert.equal(evictDone, false, 'the push finished while eviction was still running');
    pause.release();
    const [rep] = await evicting;
    assert.ok(rep && rep.manifests > 0, `eviction still evicted: ${JSON.stringify(rep)}`);
    for (const b of [cold.config, ...cold.layers]) assert.ok(!rep.evicted.includes(b.digest), `${b.digest} was used by the push and stays`);
    const pulled = await pullImage(`${srv.url}/repo/mine`, 'copy', 'v1');
    assert.equal(pulled.blobs, 1 + cold.layers.length);
  });
});
