import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

// A virtual repo over a local repo and a remote repo (real docker-registry upstream), as the root default.
describe('virtual repo', () => {
  let reg: RunningRegistry;
  let srv: TestServer;
  let upstreamImg: TestImage;
  let shadow: TestImage;

  before(async () => {
    reg = await startRegistry();
    upstreamImg = await makeImage({ layerSizes: [300_000] });
    shadow = await makeImage({ layerSizes: [1000] });
    await pushImage(reg.url, 'library/alpine', '3.20', upstreamImg);
    await pushImage(reg.url, 'team/app', 'v1', upstreamImg);
    srv = await startServer({
      config: {
        defaultRepo: 'docker',
        repos: [
          remoteRepo('hub', reg.url, { upstream: { libraryPrefix: true } }),
          { name: 'mine', format: 'docker', type: 'local' },
          { name: 'docker', format: 'docker', type: 'virtual', members: ['mine', 'hub'], deployTo: 'mine' },
          { name: 'readonly', format: 'docker', type: 'virtual', members: ['mine', 'hub'] },
        ],
      },
    });
  });
  after(() => closeAll(() => srv?.close(), () => reg?.stop()));

  it('pull of an image that lives only upstream comes through the remote member', async () => {
    const p = await pullImage(srv.url, 'alpine', '3.20');
    assert.equal(p.manifestDigest, upstreamImg.manifest.digest);
    assert.ok(p.cache.every((c) => c === 'MISS'), p.cache.join());
    const again = await pullImage(srv.url, 'library/alpine', '3.20');
    assert.ok(again.cache.every((c) => c === 'HIT'), again.cache.join());
  });

  it('push to the virtual URL lands in deployTo; the local member wins over the remote one', async () => {
    await pushImage(srv.url, 'team/app', 'v1', shadow); // root /v2/ → virtual → mine
    const local = await fetch(`${srv.url}/repo/mine/v2/team/app/manifests/v1`);
    assert.equal(local.headers.get('docker-content-digest'), shadow.manifest.digest);
    const p = await pullImage(srv.url, 'team/app', 'v1');
    assert.equal(p.manifestDigest, shadow.manifest.digest, 'first member that has the tag');
    assert.ok(p.cache.every((c) => c === 'LOCAL'), p.cache.join());
    const upstream = await pullImage(`${srv.url}/repo/hub`, 'team/app', 'v1');
    assert.equal(upstream.manifestDigest, upstreamImg.manifest.digest);
  });

  it('not-found falls through; tags and catalog are merged', async () => {
    await pushImage(srv.url, 'team/app', 'v2', shadow);
    const tags = (await (await fetch(`${srv.url}/v2/team/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1', 'v2']);
    const cat = (await (await fetch(`${srv.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.ok(cat.repositories.includes('team/app') && cat.repositories.includes('library/alpine'), cat.repositories.join());
    const none = await fetch(`${srv.url}/v2/team/none/manifests/v1`);
    assert.equal(none.status, 404);
    assert.equal(((await none.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'MANIFEST_UNKNOWN');
  });

  it('an error other than not-found surfaces instead of falling through', async () => {
    await reg.stop();
    const r = await fetch(`${srv.url}/v2/team/never-cached/manifests/v1`);
    assert.ok(r.status === 502 || r.status === 503, `status ${r.status}`);
    // Content the local member has is still served, and its tags still list.
    assert.equal((await fetch(`${srv.url}/v2/team/app/manifests/v2`)).status, 200);
    const tags = await fetch(`${srv.url}/v2/team/app/tags/list`);
    assert.equal(tags.status, 200);
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1', 'v2']);
  });

  it('a virtual repo without deployTo refuses pushes', async () => {
    const r = await fetch(`${srv.url}/repo/readonly/v2/x/blobs/uploads/`, { method: 'POST' });
    assert.equal(r.status, 405);
  });
});
