import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startCluster } from '../helpers/replicas.ts';
import type { Cluster } from '../helpers/replicas.ts';
import { remoteRepo } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

const MiB = 1024 * 1024;
const GRACE_MS = 6000;

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const localRepo = (name: string): Record<string, unknown> => ({ name, format: 'docker', type: 'local' });

/** A counter of a replica's /metrics, summed over the lines whose labels contain `labels`. */
async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
}

const hex = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('three replicas over one S3 bucket (Ceph RGW)', () => {
  let upstream: RunningRegistry;
  let relay: Relay;
  let slow: Relay;
  let c: Cluster;
  /** The layer the killed replica was filling (served again after the restart, by digest). */
  let slowLayer = '';

  before(async () => {
    upstream = await startRegistry();
    relay = await startRelay(upstream.url);
    // A link slow enough that a replica can be killed while its fill is half way.
    slow = await startRelay(upstream.url, { bytesPerSecond: 2 * MiB });
    c = await startCluster(
      3,
      (storage) => ({
        storage,
        gc: { graceMinutes: GRACE_MS / 60_000 },
        repos: [localRepo('local'), remoteRepo('hub', relay.url), remoteRepo('slow', slow.url)],
      }),
      // Short leases: a killed replica's lease runs out in 2 s. Parts of 5 MiB: layers over that are multipart.
      { leaseSeconds: 2, partSizeMiB: 5 },
    );
  });

  after(() => closeAll(() => c?.close(), () => relay?.close(), () => slow?.close(), () => upstream?.stop()));

  it('a push through one replica is pulled through another; a re-pushed tag shows at once everywhere', async () => {
    const one = await makeImage({ layerSizes: [7 * MiB, 20_000] });
    await pushImage(`${c.url(0)}/repo/local`, 'team/app', 'v1', one);
    const got = await pullImage(`${c.url(1)}/repo/local`, 'team/app', 'v1');
    assert.equal(got.manifestDigest, one.manifest.digest);
    assert.equal(got.blobs, 3);
    // Replica 2 reads v1 (and would remember it, were documents cached), then v1 moves on replica 0.
    assert.equal((await pullImage(`${c.url(2)}/repo/local`, 'team/app', 'v1')).manifestDigest, one.manifest.digest);
    const two = await makeImage({ layerSizes: [1000] });
    await pushImage(`${c.url(0)}/repo/local`, 'team/app', 'v1', two);
    assert.equal((await pullImage(`${c.url(2)}/repo/local`, 'team/app', 'v1')).manifestDigest, two.manifest.digest);
    const tags = (await (await fetch(`${c.url(1)}/repo/local/v2/team/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1']);
  });

  it('an admin switch set through one replica (hub offline) reaches the others within seconds', async () => {
    const offlineOn = async (i: number): Promise<boolean | undefined> => {
      const repos = (await (await fetch(`${c.url(i)}/api/v1/repos`)).json()) as { repos: Array<{ name: string; offline?: boolean }> };
      return repos.repos.find((r) => r.name === 'hub')?.offline;
    };
    assert.equal(await offlineOn(2), false);
    assert.equal((await fetch(`${c.url(0)}/api/v1/repos/hub/offline?on=true`, { method: 'POST' })).status, 200);
    await until('replicas 1 and 2 to see hub offline', async () => (await offlineOn(1)) === true && (await offlineOn(2)) === true, 10_000);
    assert.equal((await fetch(`${c.url(1)}/api/v1/repos/hub/offline?on=config`, { method: 'POST' })).status, 200);
    await until('replicas 0 and 2 to see hub online again', async () => (await offlineOn(0)) === false && (await offlineOn(2)) === false, 10_000);
  });

  it('a chunked upload started on one replica continues and finishes on the others', async () => {
    const parts = [randomBytes(6 * MiB), randomBytes(MiB), randomBytes(100)];
    const all = Buffer.concat(parts);
    const digest = hex(all);
    const start = await fetch(`${c.url(0)}/repo/local/v2/team/chunked/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    let loc = start.headers.get('location') ?? '';
    assert.match(loc, /uploads\//);
    let at = 0;
    for (const [i, p] of parts.entries()) {
      const r = await fetch(new URL(loc, c.url((i + 1) % 3)), {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${at}-${at + p.byteLength - 1}` },
        body: p,
      });
      assert.equal(r.status, 202, await r.text());
      at += p.byteLength;
      assert.equal(r.headers.get('range'), `0-${at - 1}`);
      loc = r.headers.get('location') ?? loc;
    }
    // A chunk out of order, sent to yet another replica, is refused and changes nothing.
    const wrong = await fetch(new URL(loc, c.url(2)), { method: 'PATCH', headers: { 'content-range': '5-9' }, body: new Uint8Array(5) });
    assert.equal(wrong.status, 416);
    const status = await fetch(new URL(loc, c.url(0)));
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), `0-${all.byteLength - 1}`);
    const fin = new URL(loc, c.url(1));
    fin.searchParams.set('digest', digest);
    const put = await fetch(fin, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    const back = await fetch(`${c.url(2)}/repo/local/v2/team/chunked/blobs/${digest}`);
    assert.equal(back.status, 200);
    assert.equal(hex(new Uint8Array(await back.arrayBuffer())), digest);
  });

  it('eight clients spread over the replicas pull one uncached image: one upstream GET per blob', async () => {
    const img = await makeImage({ layerSizes: [9 * MiB, 3 * MiB, 50_000] });
    await pushImage(upstream.url, 'lib/many', 'v1', img);
    relay.reset();
    const pulls = await Promise.all(Array.from({ length: 8 }, (_, i) => pullImage(`${c.url(i % 3)}/repo/hub`, 'lib/many', 'v1')));
    for (const p of pulls) assert.equal(p.manifestDigest, img.manifest.digest);
    for (const b of [img.config, ...img.layers]) {
      assert.equal(relay.count('GET', `/v2/lib/many/blobs/${b.digest}`), 1, `upstream GETs of ${b.digest}`);
    }
    // Every byte came from upstream once: the three blobs, plus manifests.
    const blobBytes = [img.config, ...img.layers].reduce((a, b) => a + b.bytes.byteLength, 0);
    assert.ok(relay.bytes.value < blobBytes + 100_000, `upstream sent ${relay.bytes.value} bytes for ${blobBytes} of blobs`);
  });

  it('a replica killed (kill -9) mid-fill: another takes the lease over and completes the blob intact', async () => {
    const img = await makeImage({ layerSizes: [8 * MiB] });
    await pushImage(upstream.url, 'lib/slow', 'v1', img);
    const layer = img.layers[0];
    assert.ok(layer);
    slowLayer = layer.digest;
    slow.reset();
    const waitedBefore = await metric(c.url(1), 'binaryrepo_replica_fill_events_total', 'event="waited"');
    const first = await fetch(`${c.url(0)}/repo/slow/v2/lib/slow/blobs/${layer.digest}`);
    assert.equal(first.status, 200);
    const reader = first.body?.getReader();
    assert.ok(reader);
    let got = 0;
    while (got < MiB) {
      const r: { done: boolean; value?: Uint8Array } = await reader.read();
      assert.equal(r.done, false, 'the first replica ended its answer early');
      got += r.value?.byteLength ?? 0;
    }
    // Replica 1 asks for the same blob: the lease of replica 0 makes it wait instead of downloading.
    const second = fetch(`${c.url(1)}/repo/slow/v2/lib/slow/blobs/${layer.digest}`).then(async (r) => ({ status: r.status, body: new Uint8Array(await r.arrayBuffer()) }));
    await until('replica 1 to wait on the lease', async () => (await metric(c.url(1), 'binaryrepo_replica_fill_events_total', 'event="waited"')) === waitedBefore + 1);
    assert.equal(slow.count('GET', `/blobs/${layer.digest}`), 1, 'the waiting replica did not download');
    const dead = c.replicas[0];
    assert.ok(dead);
    // The kill lands mid-fill: fewer bytes have left the upstream than the layer has.
    const sentBeforeKill = slow.bytes.value;
    assert.ok(sentBeforeKill < layer.bytes.byteLength, `upstream had sent ${sentBeforeKill} of ${layer.bytes.byteLength}`);
    dead.child.kill('SIGKILL');
    await dead.stop().catch(() => {});
    await reader.cancel().catch(() => {});
    const res = await second;
    assert.equal(res.status, 200);
    assert.equal(await metric(c.url(1), 'binaryrepo_replica_fill_events_total', 'event="takeover"'), 1);
    assert.equal(hex(res.body), layer.digest, 'the surviving replica served the verified blob');
    assert.equal(slow.count('GET', `/blobs/${layer.digest}`), 2, 'the dead fill and the one that took over');
    // And the stored blob is whole: a third replica serves it from the bucket without the upstream.
    const third = await fetch(`${c.url(2)}/repo/slow/v2/lib/slow/blobs/${layer.digest}`);
    assert.equal(hex(new Uint8Array(await third.arrayBuffer())), layer.digest);
    assert.equal(slow.count('GET', `/blobs/${layer.digest}`), 2);
    await c.start(0);
  });

  it('every replica restarted with the upstream gone: everything cached or pushed is still served', async () => {
    await Promise.all([0, 1, 2].map((i) => c.replicas[i]?.stop()));
    await upstream.stop();
    for (const i of [0, 1, 2]) await c.start(i);
    const many = await pullImage(`${c.url(2)}/repo/hub`, 'lib/many', 'v1');
    assert.equal(many.blobs, 4);
    const slowBlob = await fetch(`${c.url(0)}/repo/slow/v2/lib/slow/blobs/${slowLayer}`);
    assert.equal(slowBlob.status, 200);
    assert.equal(hex(new Uint8Array(await slowBlob.arrayBuffer())), slowLayer);
    const app = await pullImage(`${c.url(1)}/repo/local`, 'team/app', 'v1');
    assert.equal(app.blobs, 2);
  });

  it('gc on one replica while another takes pushes: garbage goes, nothing pushed is lost', async () => {
    const garbage = await makeImage({ layerSizes: [30_000, 40_000] });
    await pushImage(`${c.url(0)}/repo/local`, 'team/garbage', 'v1', garbage);
    const del = await fetch(`${c.url(0)}/repo/local/v2/team/garbage/manifests/${garbage.manifest.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const madeAt = Date.now();
    // gc keeps blobs younger than its grace (uploads in flight on other replicas): let the garbage age.
    await until('the garbage to outlive the grace period', () => Date.now() - madeAt > GRACE_MS + 1500, GRACE_MS * 3);
    let gcDone = false;
    const gc = fetch(`${c.url(0)}/api/v1/gc?dryRun=false`, { method: 'POST' }).then(async (r) => {
      gcDone = true;
      return { status: r.status, body: ((await r.json()) as { report: { blobsDeleted: number; deleted: string[] } }).report };
    });
    const pushed: Array<{ tag: string; digest: string }> = [];
    // Pushes on replica 1 until the gc on replica 0 has answered (at least three, so they overlap it).
    while (!gcDone || pushed.length < 3) {
      const img = await makeImage({ layerSizes: [20_000 + pushed.length] });
      const tag = `p${pushed.length}`;
      await pushImage(`${c.url(1)}/repo/local`, 'team/busy', tag, img);
      pushed.push({ tag, digest: img.manifest.digest });
    }
    const report = await gc;
    assert.equal(report.status, 200);
    for (const l of garbage.layers) assert.ok(report.body.deleted.includes(l.digest), `gc deleted ${l.digest}`);
    for (const l of garbage.layers) assert.equal((await fetch(`${c.url(2)}/repo/local/v2/team/garbage/blobs/${l.digest}`, { method: 'HEAD' })).status, 404);
    for (const p of pushed) assert.equal((await pullImage(`${c.url(2)}/repo/local`, 'team/busy', p.tag)).manifestDigest, p.digest);
  });
});
