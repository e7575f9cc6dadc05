import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { makeImage, pushImage, pushPlatforms } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { closeAll } from '../helpers/teardown.ts';

// `binaryrepo prefetch` warms a remote repo's cache; switched offline, the repo then serves exactly
// what was prefetched.
describe('binaryrepo prefetch, then offline', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let dir: { path: string; cleanup: () => Promise<void> };
  let img: TestImage;
  let amd: TestImage;
  let arm: TestImage;

  before(async () => {
    dir = await tempDir('prefetch-');
    reg = await startRegistry();
    relay = await startRelay(reg.url);
    img = await makeImage({ layerSizes: [200_000, 30_000] });
    await pushImage(reg.url, 'team/app', '1', img);
    ({ amd, arm } = await pushPlatforms(reg.url, 'team/multi', '2', { amd: 50_000, arm: 60_000 }));
  });
  after(() => closeAll(() => relay?.close(), () => reg?.stop(), () => dir?.cleanup()));

  it('fetches every blob once; the offline repo then serves them with no upstream request', async () => {
    const configPath = join(dir.path, 'config.json');
    const storage = { type: 'fs', path: join(dir.path, 'data') };
    await writeFile(configPath, JSON.stringify({ storage, repos: [remoteRepo('hub', relay.url)] }));
    const r = await cli(['prefetch', 'hub', 'team/app:1', 'team/multi:2', '--platform', 'linux/arm64', '--config', configPath]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; manifests: number; blobs: number; fetched: number; bytesFetched: number });
    const size = (i: TestImage): number => [i.config, ...i.layers].reduce((a, b) => a + b.bytes.byteLength, 0);
    assert.deepEqual(lines[0], { image: 'team/app:1', ok: true, manifests: 1, blobs: 3, fetched: 3, bytesFetched: size(img) });
    assert.deepEqual(lines[1], { image: 'team/multi:2', ok: true, manifests: 2, blobs: 2, fetched: 2, bytesFetched: size(arm) });
    assert.equal(relay.count('GET', `/blobs/${amd.layers[0]?.digest ?? ''}`), 0, 'the other platform was left alone');

    const again = await cli(['prefetch', 'hub', 'team/app:1', '--config', configPath]);
    assert.equal((JSON.parse(again.stdout) as { fetched: number }).fetched, 0, 'a second prefetch finds everything cached');

    relay.reset();
    const br = await startServer({ dataDir: storage.path, config: { repos: [remoteRepo('hub', relay.url, { offline: true })] } });
    try {
      const app = await pullImage(`${br.url}/repo/hub`, 'team/app', '1');
      assert.equal(app.manifestDigest, img.manifest.digest);
      const multi = await pullImage(`${br.url}/repo/hub`, 'team/multi', '2', { arch: 'arm64' });
      assert.equal(multi.bytes, size(arm));
      assert.equal((await fetch(`${br.url}/repo/hub/v2/team/multi/manifests/${amd.manifest.digest}`)).status, 404, 'not prefetched, offline');
      assert.equal(relay.count('GET', '/v2/') + relay.count('HEAD', '/v2/'), 0, 'offline: the upstream saw nothing');
    } finally {
      await br.close();
    }
  });

  it('refuses what is not a remote repo or not an image reference', async () => {
    const configPath = join(dir.path, 'config.json');
    assert.equal((await cli(['prefetch', 'nope', 'team/app:1', '--config', configPath])).code, 2);
    const bad = await cli(['prefetch', 'hub', '../etc/passwd:1', '--config', configPath]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an image reference/);
  });
});
