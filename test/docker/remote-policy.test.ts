import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { closeAll } from '../helpers/teardown.ts';

const error = async (r: Response): Promise<{ code?: string; message?: string }> => ((await r.json()) as { errors: Array<{ code: string; message: string }> }).errors[0] ?? {};

// What a remote repo may serve (include/exclude patterns) and how it serves when switched offline,
// over the real CNCF registry behind a counting relay.
describe('remote repo policy: include/exclude and offline', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let img: TestImage;
  let other: TestImage;
  let dir: { path: string; cleanup: () => Promise<void> };
  let br: TestServer | undefined;
  let clock = Date.now();

  before(async () => {
    dir = await tempDir('policy-');
    reg = await startRegistry();
    relay = await startRelay(reg.url);
    img = await makeImage({ layerSizes: [40_000] });
    other = await makeImage({ layerSizes: [30_000] });
    for (const name of ['team/app', 'team/secret-sauce', 'elsewhere/app', 'library/alpine']) await pushImage(reg.url, name, '1', img);
    await pushImage(reg.url, 'team/app', '2', other);
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => reg?.stop(), () => dir?.cleanup()));

  const start = async (extra: Record<string, unknown>): Promise<TestServer> => {
    await br?.close();
    br = await startServer({
      dataDir: dir.path,
      now: () => clock,
      config: {
        repos: [
          remoteRepo('hub', relay.url, { upstream: { libraryPrefix: true }, cache: { tagTtlSeconds: 60 }, include: ['team/**', 'library/*'], exclude: ['team/secret*'], ...extra }),
          { name: 'mine', format: 'docker', type: 'local' },
          { name: 'all', format: 'docker', type: 'virtual', members: ['hub', 'mine'] },
        ],
      },
    });
    return br;
  };
  const upstreamCalls = (): number => relay.count('GET', '/v2/') + relay.count('HEAD', '/v2/');

  it('serves included images only; excluded ones are NAME_UNKNOWN without asking upstream, even for cached blobs', async () => {
    const s = await start({});
    assert.equal((await pullImage(`${s.url}/repo/hub`, 'team/app', '1')).manifestDigest, img.manifest.digest);
    assert.equal((await pullImage(`${s.url}/repo/hub`, 'alpine', '1')).manifestDigest, img.manifest.digest, 'library/* covers alpine');
    const before = upstreamCalls();
    for (const name of ['team/secret-sauce', 'elsewhere/app']) {
      const m = await fetch(`${s.url}/repo/hub/v2/${name}/manifests/1`);
      assert.equal(m.status, 404, name);
      const e = await error(m);
      assert.equal(e.code, 'NAME_UNKNOWN');
      assert.match(e.message ?? '', /include\/exclude/);
      // The same layer is cached (through team/app), but not to be had under an excluded name.
      const layer = img.layers[0]?.digest ?? '';
      assert.equal((await fetch(`${s.url}/repo/hub/v2/${name}/blobs/${layer}`)).status, 404, `${name} blob`);
      assert.equal((await fetch(`${s.url}/repo/hub/v2/${name}/tags/list`)).status, 404, `${name} tags`);
    }
    assert.equal(upstreamCalls(), before, 'refused names never reach the upstream');
    const catalog = (await (await fetch(`${s.url}/repo/hub/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['library/alpine', 'team/app']);
  });

  it('offline: cached tags are served past their TTL and nothing is asked upstream', async () => {
    const s = await start({ offline: true });
    clock += 3_600_000;
    const before = upstreamCalls();
    const warm = await pullImage(`${s.url}/repo/hub`, 'team/app', '1');
    assert.equal(warm.manifestDigest, img.manifest.digest);
    assert.ok(warm.cache.every((c) => c === 'HIT'), warm.cache.join());
    const tags = (await (await fetch(`${s.url}/repo/hub/v2/team/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['1'], 'the tags this cache holds (2 was never pulled)');
    assert.equal(upstreamCalls(), before);
  });

  it('offline: what is not cached is not found (clear message), so a virtual repo moves on', async () => {
    const s = await start({ offline: true });
    const before = upstreamCalls();
    const m = await fetch(`${s.url}/repo/hub/v2/team/app/manifests/2`);
    assert.equal(m.status, 404);
    const e = await error(m);
    assert.equal(e.code, 'MANIFEST_UNKNOWN');
    assert.match(e.message ?? '', /offline/);
    const b = await fetch(`${s.url}/repo/hub/v2/team/app/blobs/${other.layers[0]?.digest ?? ''}`);
    assert.equal(b.status, 404);
    assert.equal((await error(b)).code, 'BLOB_UNKNOWN');
    assert.equal(upstreamCalls(), before, 'offline means no upstream request at all');
    // Through the virtual repo, the local member answers what the offline remote does not have.
    await pushImage(`${s.url}/repo/mine`, 'team/app', '2', other);
    assert.equal((await pullImage(`${s.url}/repo/all`, 'team/app', '2')).manifestDigest, other.manifest.digest);
    assert.equal(upstreamCalls(), before);
  });

  it('back online, the same store fills its misses again', async () => {
    const s = await start({});
    assert.equal((await pullImage(`${s.url}/repo/hub`, 'team/app', '2')).manifestDigest, other.manifest.digest);
  });
});
