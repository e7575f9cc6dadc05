import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { sha256 } from '../helpers/images.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const manifest = (n: number): Uint8Array => new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI, n, layers: [] }));
const errorCode = async (r: Response): Promise<string | undefined> => ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code;

// Tag lists and referrers of a remote repo: asked upstream each time, the last good answer kept for
// when the upstream fails (within maxStaleSeconds), the upstream's "not found" always believed.
describe('remote repo lists (tags, referrers) when the upstream fails', () => {
  let up: FakeUpstream;
  let br: TestServer;
  let clock = Date.now();
  const down = { kind: 'status', status: 503 } as const;

  before(async () => {
    up = await startFakeUpstream();
    br = await startServer({
      config: {
        repos: [
          remoteRepo('hub', up.url, { upstream: { breakerFailures: 1000 }, cache: { tagTtlSeconds: 60, maxStaleSeconds: 3600 } }),
          remoteRepo('lib', up.url, { upstream: { breakerFailures: 1000, libraryPrefix: true } }),
        ],
      },
      now: () => clock,
    });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));
  const tags = (image: string): Promise<Response> => fetch(`${br.url}/repo/hub/v2/${image}/tags/list`);

  it('serves the last upstream tag list while the upstream is down, and the new one once it is back', async () => {
    up.manifests.set('1.0', { bytes: manifest(1), mediaType: OCI });
    up.manifests.set('2.0', { bytes: manifest(2), mediaType: OCI });
    const fresh = await tags('team/app');
    assert.equal(fresh.status, 200);
    assert.deepEqual(((await fresh.json()) as { tags: string[] }).tags, ['1.0', '2.0']);
    up.behaviour.set('tags/list', down);
    const stale = await tags('team/app');
    assert.equal(stale.status, 200);
    assert.deepEqual(((await stale.json()) as { tags: string[] }).tags, ['1.0', '2.0']);
    up.behaviour.delete('tags/list');
    up.manifests.set('3.0', { bytes: manifest(3), mediaType: OCI });
    assert.deepEqual(((await (await tags('team/app')).json()) as { tags: string[] }).tags, ['1.0', '2.0', '3.0'], 'asked again once up');
  });

  it('past maxStaleSeconds the failure surfaces as an OCI error', async () => {
    up.behaviour.set('tags/list', down);
    clock += 3_700_000;
    try {
      const r = await tags('team/app');
      assert.ok(r.status === 502 || r.status === 503, String(r.status));
      assert.ok(['UNAVAILABLE', 'UPSTREAM_ERROR'].includes((await errorCode(r)) ?? ''));
    } finally {
      up.behaviour.delete('tags/list');
    }
  });

  it('with no kept list, a down upstream still lists the tags this cache holds', async () => {
    await fetch(`${br.url}/repo/hub/v2/team/other/manifests/2.0`).then((r) => r.arrayBuffer());
    await fetch(`${br.url}/repo/hub/v2/team/other/manifests/1.0`).then((r) => r.arrayBuffer());
    up.behaviour.set('tags/list', down);
    try {
      const r = await tags('team/other');
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as { tags: string[] }).tags, ['1.0', '2.0']);
      // Docker Hub style: `solo` is `library/solo` upstream and in the cache, whichever name is used.
      await fetch(`${br.url}/repo/lib/v2/solo/manifests/1.0`).then((r) => r.arrayBuffer());
      for (const name of ['solo', 'library/solo']) {
        const lib = await fetch(`${br.url}/repo/lib/v2/${name}/tags/list`);
        assert.equal(lib.status, 200, name);
        assert.deepEqual(((await lib.json()) as { tags: string[] }).tags, ['1.0'], name);
      }
      const none = await tags('team/never-seen');
      assert.ok(none.status === 502 || none.status === 503, `nothing kept and nothing held: the failure surfaces (${none.status})`);
    } finally {
      up.behaviour.delete('tags/list');
    }
  });

  it('an upstream "not found" is believed, not papered over with a kept list', async () => {
    assert.equal((await tags('team/app')).status, 200);
    const saved = new Map(up.manifests);
    up.manifests.clear();
    try {
      const gone = await tags('team/app');
      assert.equal(gone.status, 404);
      assert.equal(await errorCode(gone), 'NAME_UNKNOWN');
    } finally {
      for (const [k, v] of saved) up.manifests.set(k, v);
    }
  });

  it('serves the last referrers answer while the upstream is down', async () => {
    const subject = sha256(manifest(1));
    const sig = { mediaType: OCI, digest: sha256(new Uint8Array([7])), size: 7, artifactType: 'application/vnd.example.sig' };
    up.referrers.set(subject, [sig]);
    const url = `${br.url}/repo/hub/v2/team/app/referrers/${subject}`;
    assert.equal(((await (await fetch(url)).json()) as { manifests: unknown[] }).manifests.length, 1);
    up.behaviour.set('referrers', down);
    try {
      const r = await fetch(url);
      assert.equal(r.status, 200);
      assert.deepEqual(((await r.json()) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest), [sig.digest]);
      const unknown = await fetch(`${br.url}/repo/hub/v2/team/app/referrers/${sha256(new Uint8Array([9]))}`);
      assert.ok(unknown.status === 502 || unknown.status === 503, `a subject never asked about has nothing kept (${unknown.status})`);
    } finally {
      up.behaviour.delete('referrers');
    }
  });
});
