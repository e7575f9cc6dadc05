import { ImageFilter } from '../../src/formats/docker/image-filter.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NegativeCache, freshness, mayServeStale } from '../../src/cache/policy.ts';
import { parseRange } from '../../src/http/range.ts';
import { parseRetryAfter } from '../../src/upstream/errors.ts';

describe('cache policy', () => {
  const rule = { ttlMs: 1000, maxStaleMs: 5000 };
  it('is fresh within the TTL and revalidates after it', () => {
    assert.equal(freshness(0, 999, rule), 'fresh');
    assert.equal(freshness(0, 1000, rule), 'revalidate');
  });
  it('serves stale up to TTL + maxStale; 0 means without limit', () => {
    assert.equal(mayServeStale(0, 5999, rule), true);
    assert.equal(mayServeStale(0, 6000, rule), false);
    assert.equal(mayServeStale(0, 1e12, { ttlMs: 1000, maxStaleMs: 0 }), true);
  });
  it('negative cache entries expire on read and stay bounded', () => {
    let now = 0;
    const n = new NegativeCache(100, () => now, 2);
    n.add('a');
    assert.equal(n.has('a'), true);
    now = 100;
    assert.equal(n.has('a'), false);
    n.add('x');
    n.add('y');
    n.add('z');
    assert.equal(n.has('x'), false, 'oldest dropped past maxEntries');
    assert.equal(n.has('z'), true);
    assert.equal(new NegativeCache(0, () => 0).has('q'), false);
  });
});

describe('Range and Retry-After parsing', () => {
  it('parses single ranges and suffixes, rejects the unsatisfiable', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'ok', start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'ok', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'ok', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { kind: 'ok', start: 990, end: 999 });
    assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=50-10', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange(`bytes=${'9'.repeat(30)}-`, 1000), { kind: 'unsatisfiable' });
  });
  it('ignores what it does not understand (serves the whole body)', () => {
    for (const h of [null, '', 'bytes=', 'items=0-1', 'bytes=0-1,5-6', 'bytes=-', 'bytes=a-b']) {
      assert.deepEqual(parseRange(h, 1000), { kind: 'none' }, String(h));
    }
  });
  it('Retry-After: seconds or HTTP date', () => {
    assert.equal(parseRetryAfter('120'), 120);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const t = parseRetryAfter(new Date(Date.now() + 60_000).toUTCString());
    assert.ok(t !== undefined && t >= 58 && t <= 61);
  });
});

describe('ImageFilter (include/exclude patterns)', () => {
  it('* stays within a segment, ** crosses them, a leading **/ matches no prefix too', () => {
    const f = new ImageFilter(['library/*', 'bitnami/**', '**/nginx'], ['bitnami/secret*']);
    assert.ok(f.allows('library/alpine'));
    assert.ok(!f.allows('library/a/b'), '* does not cross /');
    assert.ok(f.allows('bitnami/redis') && f.allows('bitnami/charts/redis'));
    assert.ok(!f.allows('bitnami/secret-thing'), 'exclude wins');
    assert.ok(f.allows('nginx') && f.allows('team/web/nginx'));
    assert.ok(!f.allows('team/nginx-proxy'));
    assert.ok(!f.allows('other/app'), 'not included');
  });

  it('no include means everything; dots and dashes are literal', () => {
    const f = new ImageFilter([], ['team/a.b']);
    assert.equal(f.active, true);
    assert.ok(f.allows('anything/at/all'));
    assert.ok(!f.allows('team/a.b'));
    assert.ok(f.allows('team/aXb'), '. is not a wildcard');
    assert.equal(new ImageFilter([], []).active, false);
  });
});
