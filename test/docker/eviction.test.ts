import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AccessTimes } from '../../src/cache/access-times.ts';
import { cli } from '../helpers/cli.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** An image that also uses another image's first layer (shared content). */
async function sharing(base: TestImage): Promise<TestImage> {
  const img = await makeImage({ layerSizes: [100_000] });
  const shared = base.layers[0];
  assert.ok(shared);
  const doc = JSON.parse(new TextDecoder().decode(img.manifest.bytes)) as { layers: unknown[] };
  doc.layers.push({ mediaType: shared.mediaType, size: shared.bytes.byteLength, digest: shared.digest });
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  return { ...img, layers: [...img.layers, shared], manifest: { ...img.manifest, bytes, digest: sha256(bytes) } };
}

const sizeOf = (i: TestImage): number => [i.config, ...i.layers, i.manifest].reduce((a, b) => a + b.bytes.byteLength, 0);

describe('cache budget and LRU eviction', () => {
  let reg: RunningRegistry;
  let a: TestImage;
  let b: TestImage;
  let c: TestImage;
  let clock = 1_000_000;
  const servers: TestServer[] = [];

  before(async () => {
    reg = await startRegistry();
    a = await makeImage({ layerSizes: [100_000, 100_000] });
    b = await sharing(a);
    c = await makeImage({ layerSizes: [100_000] });
    for (const [n, i] of [['a', a], ['b', b], ['c', c]] as const) await pushImage(reg.url, `team/${n}`, '1', i);
  });
  after(async () => {
    for (const s of servers) await s.close();
    await reg?.stop();
  });

  async function server(cache: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<TestServer> {
    const s = await startServer({
      now: () => clock,
      config: { repos: [remoteRepo('hub', reg.url, { cache }), { name: 'mine', format: 'docker', type: 'local' }], ...extra },
    });
    servers.push(s);
    // Pulled in the order c, b, a; then a is read again, so c is the least recently used.
    for (const n of ['c', 'b', 'a', 'a']) {
      clock += 1000;
      await pullImage(`${s.url}/repo/hub`, `team/${n}`, '1');
    }
    // A pull returns once the client has every (verified) byte; the commit and the repo's link
    // follow. Eviction counts only linked content, so wait for the links (issue 9, item 21).
    await s.server.fills.idle();
    return s;
  }
  const has = async (s: TestServer, img: TestImage, name: string): Promise<string[]> => {
    const out: string[] = [];
    for (const blob of [img.config, ...img.layers]) {
      const r = await fetch(`${s.url}/repo/hub/v2/${name}/blobs/${blob.digest}`, { method: 'HEAD' });
      out.push(r.headers.get('x-cache') ?? String(r.status));
    }
    return out;
  };
  const total = (): number => sizeOf(a) + sizeOf(b) + sizeOf(c) - (b.layers[1]?.bytes.byteLength ?? 0);

  it('evicts least recently used images first; shared layers stay while an image uses them', async () => {
    const s = await server({ maxBytes: total(), highWatermark: 0.9, lowWatermark: 0.7 });
    const dry = await s.server.evictor.run(true);
    assert.equal(dry[0]?.usageBefore, total(), 'usage counts each blob and manifest once');
    assert.ok((dry[0]?.manifests ?? 0) >= 1 && dry[0]?.dryRun);
    assert.deepEqual(await has(s, c, 'team/c'), ['HIT', 'HIT'], 'dry run changes nothing');
    const [rep] = await s.server.evictor.run(false);
    assert.ok(rep && rep.usageAfter <= total() * 0.7, JSON.stringify(rep));
    assert.equal(rep?.manifests, 2, 'c then b went');
    // c's and b's own blobs left the store; a's blobs, including the one b shared, are all still hits.
    assert.deepEqual(await has(s, a, 'team/a'), ['HIT', 'HIT', 'HIT']);
    for (const gone of [c.config, c.layers[0], b.config, b.layers[0]]) assert.ok(rep?.evicted.includes(gone?.digest ?? ''), gone?.digest);
    assert.ok(!rep?.evicted.includes(a.layers[0]?.digest ?? ''));
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /binaryrepo_evictions_total\{kind="manifest",repo="hub"\} 2/);
    assert.match(metrics, /binaryrepo_cache_bytes\{repo="hub"\} \d+/);
    // An evicted image is simply fetched again.
    const again = await pullImage(`${s.url}/repo/hub`, 'team/c', '1');
    assert.equal(again.manifestDigest, c.manifest.digest);
    assert.ok(again.cache.every((x) => x === 'MISS'), again.cache.join());
  });

  it('pinned tags are never evicted; blobs a local repo holds keep their files', async () => {
    const s = await server({ maxBytes: total(), highWatermark: 0.5, lowWatermark: 0.1, pin: ['team/c:*'] });
    const layer = b.layers[0];
    assert.ok(layer);
    // The local repo mounts b's own layer from the cache.
    const m = await fetch(`${s.url}/v2/mine/app/blobs/uploads/?mount=${layer.digest}&from=hub/team/b`, { method: 'POST' });
    assert.equal(m.status, 201);
    const [rep] = await s.server.evictor.run(false);
    assert.ok(rep);
    assert.deepEqual(await has(s, c, 'team/c'), ['HIT', 'HIT'], 'pinned image intact');
    assert.ok(!rep.evicted.includes(layer.digest), 'the file a local image links is not deleted');
    assert.equal((await fetch(`${s.url}/repo/mine/v2/app/blobs/${layer.digest}`)).status, 200);
  });

  it('a global budget evicts across remote repos by age', async () => {
    const s = await startServer({
      now: () => clock,
      config: { cacheBudget: { maxBytes: sizeOf(a) + sizeOf(c), highWatermark: 0.9, lowWatermark: 0.8 }, repos: [remoteRepo('one', reg.url), remoteRepo('two', reg.url)] },
    });
    servers.push(s);
    clock += 1000;
    await pullImage(`${s.url}/repo/one`, 'team/c', '1');
    clock += 1000;
    await pullImage(`${s.url}/repo/two`, 'team/a', '1');
    // The race CI once lost: the last blob of team/a was still being linked when eviction counted
    // usage (101811 bytes, repo one's alone, under the budget: nothing evicted).
    await s.server.fills.idle();
    const reports = await s.server.evictor.run(false);
    const global = reports.find((r) => r.repos.length === 2);
    assert.ok(global && global.manifests === 1, JSON.stringify(reports));
    assert.equal((await fetch(`${s.url}/repo/two/v2/team/a/manifests/1`, { method: 'HEAD' })).headers.get('x-cache'), 'HIT');
    assert.ok(global.evicted.includes(c.layers[0]?.digest ?? ''), 'the older repo content went');
  });

  it('`binaryrepo cache usage` and `cache evict --dry-run` report without changing anything', async () => {
    const s = await server({ maxBytes: total(), highWatermark: 0.9, lowWatermark: 0.7 });
    const configPath = join(s.dataDir, 'config.json');
    await writeFile(configPath, JSON.stringify({ storage: { type: 'fs', path: s.dataDir }, repos: [remoteRepo('hub', reg.url, { cache: { maxBytes: total() } })] }));
    const usage = await cli(['cache', 'usage', '--config', configPath]);
    assert.equal(usage.code, 0, usage.stderr);
    assert.ok(usage.stdout.includes(`hub\t${total()} bytes\tbudget ${total()} (100.0%)`), usage.stdout);
    const dry = await cli(['cache', 'evict', '--dry-run', '--config', configPath]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /would free \d+ bytes: 1 manifest, \d+ blob links/, "the least recently used image, down to the default 80%");
    assert.deepEqual(await has(s, c, 'team/c'), ['HIT', 'HIT']);
  });

  it('access times are batched in memory and survive a restart', async () => {
    const s = servers[0];
    assert.ok(s);
    const log = new AccessTimes(s.server.meta, () => 42);
    log.touch('hub', 'sha256:ab12');
    await log.flush();
    const fresh = new AccessTimes(s.server.meta, () => 0);
    assert.equal((await fresh.times('hub')).get('sha256:ab12'), 42);
  });
});
