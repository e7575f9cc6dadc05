import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from '../../src/util/lru.ts';

/** The obvious LRU, as a reference: an array ordered oldest first. */
class ModelLru {
  items: Array<{ key: string; value: number; size: number }> = [];
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}
  get(key: string): number | undefined {
    const i = this.items.findIndex((x) => x.key === key);
    if (i < 0) return undefined;
    const [e] = this.items.splice(i, 1);
    if (!e) return undefined;
    this.items.push(e);
    return e.value;
  }
  set(key: string, value: number): void {
    this.delete(key);
    if (value > this.maxBytes) return;
    this.items.push({ key, value, size: value });
    const bytes = (): number => this.items.reduce((a, x) => a + x.size, 0);
    while (this.items.length > 0 && (this.items.length > this.maxEntries || bytes() > this.maxBytes)) this.items.shift();
  }
  delete(key: string): void {
    this.items = this.items.filter((x) => x.key !== key);
  }
}

describe('Lru', () => {
  it('evicts the least recently used entry; a hit makes an entry the newest', () => {
    const l = new Lru<number>(3);
    l.set('a', 1);
    l.set('b', 2);
    l.set('c', 3);
    assert.equal(l.get('a'), 1);
    l.set('d', 4);
    assert.equal(l.get('b'), undefined, 'b was the oldest after a was read');
    assert.deepEqual(['a', 'c', 'd'].map((k) => l.get(k)), [1, 3, 4]);
    assert.equal(l.size, 3);
  });

  it('keeps to its byte budget and refuses an entry larger than all of it', () => {
    const l = new Lru<number>(100, 10, (v) => v);
    l.set('a', 4);
    l.set('b', 4);
    l.set('c', 4);
    assert.equal(l.get('a'), undefined);
    assert.equal(l.size, 2);
    l.set('huge', 11);
    assert.equal(l.get('huge'), undefined);
    assert.deepEqual([l.get('b'), l.get('c')], [4, 4]);
  });

  it('clear(prefix) and deleteWhere leave the order intact for later evictions', () => {
    const l = new Lru<number>(4);
    for (const [k, v] of [['r/x/1', 1], ['r/y/2', 2], ['r/x/3', 3], ['s/4', 4]] as const) l.set(k, v);
    l.clear('r/x');
    assert.equal(l.size, 2);
    l.deleteWhere((v) => v === 4);
    assert.equal(l.size, 1);
    for (const k of ['n1', 'n2', 'n3', 'n4']) l.set(k, 9);
    assert.equal(l.get('r/y/2'), undefined, 'the one survivor was the oldest');
    assert.equal(l.size, 4);
  });

  it('behaves like the obvious implementation over 20,000 random operations', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const l = new Lru<number>(8, 40, (v) => v);
    const m = new ModelLru(8, 40);
    for (let i = 0; i < 20_000; i++) {
      const key = `k${rand(20)}`;
      const op = rand(10);
      if (op < 5) assert.equal(l.get(key), m.get(key), `get ${key} at step ${i}`);
      else if (op < 9) {
        const v = 1 + rand(12);
        l.set(key, v);
        m.set(key, v);
      } else {
        l.delete(key);
        m.delete(key);
      }
      assert.equal(l.size, m.items.length, `size at step ${i}`);
    }
  });
});
