import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runMaintenance } from '../../src/jobs/maintenance.ts';
import { planTags } from '../../src/formats/docker/retention.ts';
import type { RetentionResult } from '../../src/formats/docker/retention.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { makeImage, makeIndex, pushBlob, pushImage, pushManifest, sha256 } from '../helpers/images.ts';
import type { Blob, TestImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const OCI = 'application/vnd.oci.image.manifest.v1+json';

/** An artifact manifest (a signature) whose subject is `subject`. */
function signatureOf(subject: Blob, config: Blob, n: number): Blob {
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI,
      artifactType: 'application/vnd.example.sig',
      config: { mediaType: config.mediaType, digest: config.digest, size: config.bytes.byteLength },
      layers: [],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.byteLength },
      annotations: { n: String(n) },
    }),
  );
  return { bytes, digest: sha256(bytes), mediaType: OCI };
}

describe('retention policy (planTags)', () => {
  const t = (tag: string, hoursAgo: number, now: number) => ({ tag, digest: `sha256:${tag}`, pushedAt: now - hoursAgo * HOUR });
  it('keeps the newest N, the recent ones and the protected ones; any of them keeps a tag', () => {
    const now = Date.now();
    const tags = [t('v1', 100, now), t('v2', 50, now), t('v3', 2, now), t('v4', 1, now), t('latest', 1, now), t('release-1', 500, now)];
    const names = (p: { keep: Array<{ tag: string }>; remove: Array<{ tag: string }> }) => [p.keep.map((x) => x.tag).sort(), p.remove.map((x) => x.tag).sort()];
    assert.deepEqual(names(planTags(tags, { images: [], keepLast: 2, keepDays: 0, protect: ['release-*'] }, now)), [['latest', 'release-1', 'v4'], ['v1', 'v2', 'v3']]);
    assert.deepEqual(names(planTags(tags, { images: [], keepLast: 0, keepDays: 3, protect: [] }, now)), [['latest', 'v2', 'v3', 'v4'], ['release-1', 'v1']]);
    assert.deepEqual(names(planTags(tags, { images: [], keepLast: 1, keepDays: 1, protect: [] }, now)), [['latest', 'v3', 'v4'], ['release-1', 'v1', 'v2']]);
  });
});

// Retention on a local repo, then gc: the tags a policy does not keep go, the manifests only they
// reached go with them (index children, referrers, tag-schema signatures), and gc frees the blobs.
describe('retention on a local repo', () => {
  let srv: TestServer;
  let clock = Date.now();
  const imgs: TestImage[] = [];
  const base = (): string => `${srv.url}/repo/ci`;

  before(async () => {
    srv = await startServer({
      now: () => clock,
      config: {
        gc: { graceMinutes: 0 },
        repos: [
          { name: 'ci', format: 'docker', type: 'local', delete: false, retention: { images: ['app', 'multi', 'race'], keepLast: 2, protect: ['stable'] } },
          { name: 'days', format: 'docker', type: 'local', retention: { keepDays: 3 } },
        ],
      },
    });
    for (let i = 0; i < 4; i++) imgs.push(await makeImage({ layerSizes: [2000 + i] }));
  });
  after(() => srv?.close());

  const push = async (repo: string, image: string, tag: string, img: TestImage, at: number): Promise<void> => {
    clock = at;
    await pushImage(`${srv.url}/repo/${repo}`, image, tag, img);
  };
  const tags = async (repo: string, image: string): Promise<string[]> => ((await (await fetch(`${srv.url}/repo/${repo}/v2/${image}/tags/list`)).json()) as { tags: string[] }).tags;
  const manifestStatus = async (image: string, digest: string): Promise<number> => (await fetch(`${base()}/v2/${image}/manifests/${digest}`, { method: 'HEAD' })).status;
  const stored = async (digest: string): Promise<boolean> => {
    const p = parseDigest(digest);
    assert.ok(p.ok);
    return (await srv.server.blobs.stat(p.digest)) !== null;
  };

  it('keeps the newest two and the protected tag; the rest and what only they reached go, and gc frees their blobs', async () => {
    const [i1, i2, i3, i4] = imgs as [TestImage, TestImage, TestImage, TestImage];
    const t0 = clock;
    await push('ci', 'app', 'v1', i1, t0);
    await push('ci', 'app', 'stable', i1, t0 + 60_000);
    await push('ci', 'app', 'v2', i2, t0 + HOUR);
    await push('ci', 'app', 'v3', i3, t0 + 2 * HOUR);
    await push('ci', 'app', 'v4', i4, t0 + 3 * HOUR);
    await push('ci', 'other', 'v1', i3, t0); // not covered by the policy's images

    assert.equal((await fetch(`${base()}/v2/app/manifests/v1`, { method: 'DELETE' })).status, 405, 'clients may not delete here; the policy still may');
    const dry = await runMaintenance(srv.server, true, clock + DAY);
    assert.deepEqual((dry.retention as RetentionResult[]).map((r) => [r.image, r.deletedTags.sort()]), [['app', ['v1', 'v2']]]);
    assert.deepEqual(await tags('ci', 'app'), ['stable', 'v1', 'v2', 'v3', 'v4'], 'a dry run changes nothing');

    const run = await runMaintenance(srv.server, false, clock + DAY);
    const app = (run.retention as RetentionResult[]).find((r) => r.image === 'app');
    assert.deepEqual(app?.deletedTags.sort(), ['v1', 'v2']);
    assert.deepEqual(app?.deletedManifests, [i2.manifest.digest], 'v1 is gone but stable still reaches its manifest');
    assert.deepEqual(await tags('ci', 'app'), ['stable', 'v3', 'v4']);
    assert.equal(await manifestStatus('app', i2.manifest.digest), 404);
    assert.equal(await manifestStatus('app', i1.manifest.digest), 200);
    // The gc of the same run freed what only v2 used; what stable (and other:v1) still use stays.
    assert.equal(await stored(i2.layers[0]?.digest ?? ''), false);
    assert.equal(await stored(i2.config.digest), false);
    assert.equal(await stored(i1.layers[0]?.digest ?? ''), true);
    assert.ok(run.gc.bytesFreed >= (i2.layers[0]?.bytes.byteLength ?? 0), `gc freed ${run.gc.bytesFreed} bytes`);
    assert.deepEqual(await tags('ci', 'other'), ['v1'], 'images outside the policy are untouched');
  });

  it('an index takes its children along; signatures follow their subject, whether referrers or sha256-<hex>.sig tags', async () => {
    const start = clock + 2 * DAY;
    const [a, b, c, d] = await Promise.all([0, 1, 2, 3].map((i) => makeImage({ layerSizes: [3000 + i], oci: true, arch: i % 2 ? 'arm64' : 'amd64' })));
    assert.ok(a && b && c && d);
    for (const img of [a, b, c, d]) {
      for (const blob of [img.config, ...img.layers]) await pushBlob(base(), 'multi', blob);
      await pushManifest(base(), 'multi', img.manifest.digest, img.manifest);
    }
    const old = makeIndex([{ image: a, arch: 'amd64' }, { image: b, arch: 'arm64' }]);
    const mid = makeIndex([{ image: c, arch: 'amd64' }, { image: b, arch: 'arm64' }]);
    const cur = makeIndex([{ image: c, arch: 'amd64' }, { image: d, arch: 'arm64' }]);
    clock = start;
    await pushManifest(base(), 'multi', 'old', old);
    clock = start + HOUR;
    await pushManifest(base(), 'multi', 'mid', mid);
    clock = start + 2 * HOUR;
    await pushManifest(base(), 'multi', 'cur', cur);
    const cfgBytes = new TextEncoder().encode('{}');
    const cfg: Blob = { bytes: cfgBytes, digest: sha256(cfgBytes), mediaType: 'application/vnd.oci.empty.v1+json' };
    await pushBlob(base(), 'multi', cfg);
    const oldSig = signatureOf(old, cfg, 1);
    const curSig = signatureOf(cur, cfg, 2);
    const oldTagSig = signatureOf(old, cfg, 3);
    clock = start + 3 * HOUR;
    await pushManifest(base(), 'multi', oldSig.digest, oldSig);
    await pushManifest(base(), 'multi', curSig.digest, curSig);
    // The tag schema (cosign's default): the newest tags of all, and still not counted against keepLast.
    await pushManifest(base(), 'multi', `sha256-${old.digest.slice(7)}.sig`, oldTagSig);
    await pushManifest(base(), 'multi', `sha256-${cur.digest.slice(7)}.sig`, curSig);

    const run = await runMaintenance(srv.server, false, start + DAY);
    const multi = (run.retention as RetentionResult[]).find((r) => r.image === 'multi');
    assert.deepEqual(multi?.deletedTags.sort(), ['old', `sha256-${old.digest.slice(7)}.sig`].sort());
    assert.deepEqual(multi?.deletedManifests.sort(), [old.digest, a.manifest.digest, oldSig.digest, oldTagSig.digest].sort());
    assert.deepEqual(await tags('ci', 'multi'), ['cur', 'mid', `sha256-${cur.digest.slice(7)}.sig`]);
    for (const gone of [old.digest, a.manifest.digest, oldSig.digest]) assert.equal(await manifestStatus('multi', gone), 404, gone);
    for (const kept of [b.manifest.digest, c.manifest.digest, d.manifest.digest, curSig.digest]) assert.equal(await manifestStatus('multi', kept), 200, kept);
    assert.equal(await stored(a.layers[0]?.digest ?? ''), false, 'gc freed the layer only the deleted child used');
    const refs = (await (await fetch(`${base()}/v2/multi/referrers/${cur.digest}`)).json()) as { manifests: Array<{ digest: string }> };
    assert.deepEqual(refs.manifests.map((m) => m.digest), [curSig.digest]);
  });

  it('a push racing the maintenance run is never lost', async () => {
    const fresh = await makeImage({ layerSizes: [1500] });
    const older = await makeImage({ layerSizes: [1600] });
    // Real time here: gc judges upload sessions by their files' age, and this push has one open.
    const t0 = Date.now() - 10 * HOUR;
    for (const [i, tag] of ['r1', 'r2', 'r3'].entries()) await push('ci', 'race', tag, older, t0 + i * HOUR);
    clock = Date.now();
    // r1 is due for deletion; the same tag is pushed again while the run goes.
    const [run] = await Promise.all([runMaintenance(srv.server, false), pushImage(base(), 'race', 'r1', fresh)]);
    assert.ok(run.retention.length > 0);
    const head = await fetch(`${base()}/v2/race/manifests/r1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('docker-content-digest'), fresh.manifest.digest);
    for (const b of [fresh.config, ...fresh.layers]) assert.equal(await stored(b.digest), true);
  });

  it('keepDays: tags pushed within the window stay, older ones go', async () => {
    const [i1, i2] = imgs as [TestImage, TestImage];
    const t0 = clock + 10 * DAY;
    await push('days', 'svc', 'old', i1, t0);
    await push('days', 'svc', 'new', i2, t0 + 5 * DAY);
    await runMaintenance(srv.server, false, t0 + 6 * DAY);
    assert.deepEqual(await tags('days', 'svc'), ['new']);
  });
});
