import assert from 'node:assert/strict';
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

/** The S3 driver (fetch + Web Crypto signing, a node:fs spool) on Node, Bun and Deno, over one bucket. */
describe('replicas on Node, Bun and Deno over one S3 bucket', () => {
  let upstream: RunningRegistry;
  let relay: Relay;
  let c: Cluster;

  before(async () => {
    upstream = await startRegistry();
    relay = await startRelay(upstream.url);
    c = await startCluster(3, (storage) => ({ storage, repos: [{ name: 'local', format: 'docker', type: 'local' }, remoteRepo('hub', relay.url)] }), { partSizeMiB: 5 }, ['node', 'bun', 'deno']);
  });
  after(() => closeAll(() => c?.close(), () => relay?.close(), () => upstream?.stop()));

  it('pushed through Bun (multipart layer), pulled through Deno and Node', async () => {
    const img = await makeImage({ layerSizes: [11 * MiB, 4000] });
    await pushImage(`${c.url(1)}/repo/local`, 'team/app', '1', img);
    for (const i of [2, 0]) assert.equal((await pullImage(`${c.url(i)}/repo/local`, 'team/app', '1')).manifestDigest, img.manifest.digest);
  });

  it('a cold image pulled through all three at once: one upstream GET per blob', async () => {
    const img = await makeImage({ layerSizes: [7 * MiB, 100_000] });
    await pushImage(upstream.url, 'lib/x', '1', img);
    const pulls = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => pullImage(`${c.url(i)}/repo/hub`, 'lib/x', '1')));
    for (const p of pulls) assert.equal(p.manifestDigest, img.manifest.digest);
    for (const b of [img.config, ...img.layers]) assert.equal(relay.count('GET', `/blobs/${b.digest}`), 1, b.digest);
  });
});
