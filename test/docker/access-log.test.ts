import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AccessTimes, MAX_PER_SHARD } from '../../src/cache/access-times.ts';
import { layout } from '../../src/storage/layout.ts';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

// Issue 9, item 4: the access log (LRU times for eviction) cannot be grown by anonymous requests,
// stays bounded, and a document over the size cap never stops eviction.
describe('access log bounds', () => {
  let up: FakeUpstream;
  let br: TestServer;

  before(async () => {
    up = await startFakeUpstream();
    br = await startServer({ config: { repos: [remoteRepo('hub', up.url, { cache: { maxBytes: 10_000_000 } })] } });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  it('HEADs of digests that are not cached record nothing; a cached blob is recorded', async () => {
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${br.url}/repo/hub/v2/x/blobs/${sha256(randomBytes(8))}`, { method: 'HEAD' });
      assert.equal(r.status, 404);
    }
    assert.equal((await br.server.accessTimes.times('hub')).size, 0);
    const bytes = randomBytes(5000);
    up.blobs.set(sha256(bytes), bytes);
    const got = await fetch(`${br.url}/repo/hub/v2/x/blobs/${sha256(bytes)}`);
    assert.equal(got.status, 200);
    await got.arrayBuffer();
    await br.server.fills.idle();
    assert.deepEqual([...(await br.server.accessTimes.times('hub')).keys()], [sha256(bytes)]);
  });

  it('a shard document over the cap reads as empty: eviction and usage still run', async () => {
    const key = layout.access('hub', 'ff');
    const path = br.server.driver.localPath?.(key) ?? '';
    assert.ok(path);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, JSON.stringify({ junk: 'x'.repeat(2 * 1024 * 1024) }));
    const reports = await br.server.evictor.run(true);
    assert.equal(reports.length, 1);
    assert.ok((await br.server.accessTimes.times('hub')).size >= 1);
  });

  it('one shard keeps at most MAX_PER_SHARD entries, the most recent', async () => {
    let t = 0;
    const log = new AccessTimes(br.server.meta, () => ++t);
    const digest = (i: number): string => `sha256:ab${i.toString(16).padStart(62, '0')}`;
    for (let i = 0; i < MAX_PER_SHARD + 500; i++) log.touch('shardtest', digest(i));
    const times = await log.times('shardtest');
    assert.equal(times.size, MAX_PER_SHARD);
    assert.ok(times.has(digest(MAX_PER_SHARD + 499)), 'the newest is kept');
    assert.ok(!times.has(digest(0)), 'the oldest went');
  });
});
