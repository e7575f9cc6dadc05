import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/password.ts';
import { signToken, verifyToken } from '../../src/auth/token.ts';
import { mergeSorted, paginate } from '../../src/formats/docker/listing.ts';
import { mustExist, parseManifest } from '../../src/formats/docker/manifest.ts';
import { RwLock } from '../../src/util/rwlock.ts';

const D = `sha256:${'a'.repeat(64)}`;
const desc = (mediaType: string, extra: Record<string, unknown> = {}) => ({ mediaType, digest: D, size: 1, ...extra });
const enc = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));

describe('manifest parsing', () => {
  const oci = 'application/vnd.oci.image.manifest.v1+json';
  it('reads images, indexes, subject and artifactType', () => {
    const m = parseManifest(enc({ schemaVersion: 2, mediaType: oci, config: desc('application/vnd.oci.empty.v1+json'), layers: [desc('application/x')], subject: desc(oci) }), oci);
    assert.equal(m.kind, 'image');
    assert.equal(m.blobs.length, 2);
    assert.equal(m.artifactType, 'application/vnd.oci.empty.v1+json', 'config media type when artifactType is absent');
    assert.equal(m.subject?.digest.value, D);
    const i = parseManifest(enc({ schemaVersion: 2, manifests: [desc(oci)], artifactType: 'application/y' }), null);
    assert.equal(i.kind, 'index');
    assert.equal(i.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(i.artifactType, 'application/y');
  });
  it('refuses malformed documents with MANIFEST_INVALID', () => {
    const bad: Array<[unknown, string | null]> = [
      [{ schemaVersion: 1, mediaType: oci, config: desc('a/b'), layers: [] }, oci],
      [{ schemaVersion: 2, mediaType: oci, layers: [] }, oci],
      [{ schemaVersion: 2, mediaType: oci, config: desc('a/b'), layers: [{ mediaType: 'a/b', digest: 'sha256:xyz', size: 1 }] }, oci],
      [{ schemaVersion: 2, mediaType: oci, config: desc('a/b'), layers: [desc('a/b', { size: -1 })] }, oci],
      [{ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }, null],
      [{ schemaVersion: 2, mediaType: oci, config: desc('a/b'), layers: [] }, 'application/vnd.docker.distribution.manifest.v2+json'],
      [[1, 2], oci],
    ];
    for (const [doc, ct] of bad) {
      assert.throws(() => parseManifest(enc(doc), ct), (e: { code?: string }) => e.code === 'MANIFEST_INVALID', JSON.stringify(doc));
    }
    assert.throws(() => parseManifest(new Uint8Array([0xff, 0xfe]), oci));
  });
  it('foreign layers with urls need not be present', () => {
    assert.equal(mustExist({ mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: { algorithm: 'sha256', hex: 'a', value: 'x' }, size: 1, urls: ['https://x'] }), false);
    assert.equal(mustExist({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: { algorithm: 'sha256', hex: 'a', value: 'x' }, size: 1 }), true);
  });
});

describe('pagination', () => {
  const tags = ['1', '10', '2', 'a', 'b'];
  it('n and last', () => {
    assert.deepEqual(paginate(tags, '2', undefined), { items: ['1', '10'], next: '10' });
    assert.deepEqual(paginate(tags, '2', '10'), { items: ['2', 'a'], next: 'a' });
    assert.deepEqual(paginate(tags, '5', undefined), { items: tags });
    assert.deepEqual(paginate(tags, undefined, 'a'), { items: ['b'] });
    assert.deepEqual(paginate(tags, '0', undefined), { items: [] });
    assert.throws(() => paginate(tags, '-1', undefined));
    assert.throws(() => paginate(tags, 'x', undefined));
    assert.deepEqual(mergeSorted([['b', 'a'], ['a', 'C']]), ['C', 'a', 'b']);
  });
});

describe('passwords and tokens', () => {
  it('scrypt hashes verify the right password only', async () => {
    const h = await hashPassword('correct horse');
    assert.match(h, /^scrypt\$N=16384,r=8,p=1\$/);
    assert.equal(await verifyPassword('correct horse', h), true);
    assert.equal(await verifyPassword('wrong horse', h), false);
    assert.equal(await verifyPassword('correct horse', 'plain'), false);
    assert.notEqual(await hashPassword('correct horse'), h, 'salted');
  });
  it('tokens: signature, issuer, audience, lifetime', () => {
    const key = new TextEncoder().encode('k'.repeat(32));
    const claims = { iss: 'i', sub: 'u', aud: 'a', exp: 1000, nbf: 900, iat: 900, jti: 'j', access: [] };
    const t = signToken(claims, key);
    assert.deepEqual(verifyToken(t, key, 950, { iss: 'i', aud: 'a' }), claims);
    assert.equal(verifyToken(t, key, 1000, { iss: 'i', aud: 'a' }), null, 'expired');
    assert.equal(verifyToken(t, key, 950, { iss: 'i', aud: 'b' }), null, 'audience');
    assert.equal(verifyToken(t, key, 950, { iss: 'x', aud: 'a' }), null, 'issuer');
    assert.equal(verifyToken(t, new TextEncoder().encode('z'.repeat(32)), 950, { iss: 'i', aud: 'a' }), null, 'other key');
    assert.equal(verifyToken(`${t}x`, key, 950, { iss: 'i', aud: 'a' }), null, 'tampered');
    assert.equal(verifyToken('a.b', key, 950, { iss: 'i', aud: 'a' }), null);
  });
});

describe('RwLock', () => {
  it('exclusive waits for shared holders and blocks new ones', async () => {
    const lock = new RwLock();
    const log: string[] = [];
    let release!: () => void;
    const s1 = lock.withShared(() => new Promise<void>((r) => (release = () => { log.push('s1 end'); r(); })));
    const ex = lock.withExclusive(async () => { log.push('ex'); });
    const s2 = lock.withShared(async () => { log.push('s2'); });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(log, []);
    release();
    await Promise.all([s1, ex, s2]);
    assert.deepEqual(log, ['s1 end', 'ex', 's2']);
  });
});
