import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidName, isValidTag, parseDockerPath, parseReference } from '../../src/formats/docker/reference.ts';
import { parseDigest } from '../../src/storage/digest.ts';

describe('names, tags, digests (OCI distribution-spec grammar)', () => {
  it('accepts valid repository names', () => {
    for (const n of ['alpine', 'library/alpine', 'a/b/c', 'my-app', 'my__app', 'my.app', 'a0/b-1/c.d_e', 'x---y']) {
      assert.ok(isValidName(n), n);
    }
  });
  it('rejects invalid names, traversal and encodings', () => {
    for (const n of ['', 'Alpine', '../etc', 'a/../b', 'a//b', '/a', 'a/', '-a', 'a-', 'a_', '.a', 'a..b', '%2e%2e', 'a\\b', 'a\0b', 'a/_tags', `${'a'.repeat(256)}`]) {
      assert.ok(!isValidName(n), JSON.stringify(n));
    }
  });
  it('tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}', () => {
    for (const t of ['latest', '3.20', '_x', 'v1.0-rc.1', 'a'.repeat(128)]) assert.ok(isValidTag(t), t);
    for (const t of ['', '.hidden', '-x', 'a/b', 'a:b', 'a'.repeat(129), '..', 'a%2f']) assert.ok(!isValidTag(t), t);
  });
  it('digests: sha256 and sha512 with exact lengths; other algorithms unsupported', () => {
    const h = 'a'.repeat(64);
    assert.deepEqual(parseDigest(`sha256:${h}`), { ok: true, digest: { algorithm: 'sha256', hex: h, value: `sha256:${h}` } });
    assert.ok(parseDigest(`sha512:${'b'.repeat(128)}`).ok);
    assert.deepEqual(parseDigest(`sha256:${'a'.repeat(63)}`), { ok: false, reason: 'invalid' });
    assert.deepEqual(parseDigest(`sha256:${'A'.repeat(64)}`), { ok: false, reason: 'invalid' });
    assert.deepEqual(parseDigest(`md5:${'a'.repeat(32)}`), { ok: false, reason: 'unsupported' });
    assert.deepEqual(parseDigest('sha256:../../etc'), { ok: false, reason: 'invalid' });
    assert.deepEqual(parseDigest('nocolon'), { ok: false, reason: 'invalid' });
  });
  it('references are tags or digests', () => {
    assert.deepEqual(parseReference('latest'), { ok: true, ref: { kind: 'tag', tag: 'latest' } });
    assert.equal(parseReference(`sha256:${'c'.repeat(64)}`).ok, true);
    assert.deepEqual(parseReference('sha256:zz'), { ok: false, reason: 'invalid_digest' });
    assert.deepEqual(parseReference('bad tag'), { ok: false, reason: 'invalid_tag' });
  });
});

describe('the /v2 path router', () => {
  it('routes every endpoint, with greedy names as distribution does', () => {
    assert.deepEqual(parseDockerPath(''), { kind: 'base' });
    assert.deepEqual(parseDockerPath('/'), { kind: 'base' });
    assert.deepEqual(parseDockerPath('/_catalog'), { kind: 'catalog' });
    assert.deepEqual(parseDockerPath('/library/alpine/manifests/3.20'), { kind: 'manifest', name: 'library/alpine', ref: '3.20' });
    assert.deepEqual(parseDockerPath('/a/manifests/b/manifests/c'), { kind: 'manifest', name: 'a/manifests/b', ref: 'c' });
    assert.deepEqual(parseDockerPath('/x/blobs/sha256:abc'), { kind: 'blob', name: 'x', digest: 'sha256:abc' });
    assert.deepEqual(parseDockerPath('/x/blobs/uploads/'), { kind: 'upload', name: 'x', uuid: undefined });
    assert.deepEqual(parseDockerPath('/x/blobs/uploads/u-1'), { kind: 'upload', name: 'x', uuid: 'u-1' });
    assert.deepEqual(parseDockerPath('/x/y/tags/list'), { kind: 'tags', name: 'x/y' });
    assert.deepEqual(parseDockerPath('/x/referrers/sha256:abc'), { kind: 'referrers', name: 'x', digest: 'sha256:abc' });
    assert.deepEqual(parseDockerPath('/x/other'), { kind: 'unknown' });
    assert.deepEqual(parseDockerPath(`/${'a/'.repeat(600)}manifests/x`), { kind: 'unknown' });
  });
});
