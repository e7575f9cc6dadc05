import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry } from '../../src/metrics/registry.ts';

describe('metrics registry', () => {
  it('one series per label set, whatever order the labels are written in', () => {
    const reg = new MetricsRegistry();
    const c = reg.counter('t_total', 'test');
    c.inc({ repo: 'a', method: 'GET' });
    c.inc({ method: 'GET', repo: 'a' }, 2);
    c.inc({ repo: 'b', method: 'GET' });
    assert.equal(c.get({ method: 'GET', repo: 'a' }), 3);
    assert.equal(c.series().length, 2);
    assert.match(reg.render(), /^t_total\{method="GET",repo="a"\} 3$/m);
  });

  it('values that contain the lookup separators neither collide nor lose counts', () => {
    const reg = new MetricsRegistry();
    const c = reg.counter('t_total', 'test');
    c.inc({ a: 'x\u0001b\u0000y', b: 'z' });
    c.inc({ a: 'x', b: 'y\u0001b\u0000z' });
    c.inc({ a: 'x\u0001b\u0000y', b: 'z' });
    assert.equal(c.get({ a: 'x\u0001b\u0000y', b: 'z' }), 2);
    assert.equal(c.get({ a: 'x', b: 'y\u0001b\u0000z' }), 1);
    assert.equal(c.series().length, 2);
  });
});
