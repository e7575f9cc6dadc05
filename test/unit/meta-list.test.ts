import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { paginate } from '../../src/formats/docker/listing.ts';
import { FsDriver } from '../../src/storage/fs.ts';
import { MetaStore } from '../../src/storage/meta-store.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 13: folder listings are cached so a paged walk costs O(page); the cache must stay exact for
// our own writes and deletes, and catch up with another process's changes within its TTL.
describe('MetaStore folder listings', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let clock = 0;
  let meta: MetaStore;
  let driver: FsDriver;
  before(async () => {
    dir = await tempDir('meta-list-');
    driver = new FsDriver(dir.path);
    meta = new MetaStore(driver, () => randomUUID(), () => clock);
  });
  after(() => dir?.cleanup());

  it('stays exact through our own puts and deletes, sorted, and hands out copies', async () => {
    for (const t of ['b', 'd', 'a']) await meta.put(`r/tags/${t}`, { t });
    assert.deepEqual(await meta.list('r/tags'), ['a', 'b', 'd']);
    await meta.put('r/tags/c', { t: 'c' });
    await meta.put('r/tags/a', { t: 'again' });
    assert.deepEqual(await meta.list('r/tags'), ['a', 'b', 'c', 'd']);
    await meta.delete('r/tags/b');
    const l = await meta.list('r/tags');
    assert.deepEqual(l, ['a', 'c', 'd']);
    l.push('mutated');
    assert.deepEqual(await meta.list('r/tags'), ['a', 'c', 'd']);
    await meta.deleteTree('r/tags');
    assert.deepEqual(await meta.list('r/tags'), []);
    assert.deepEqual(await driver.list('r/tags'), []);
  });

  it('a write into new folders shows them in every cached listing above', async () => {
    await meta.put('n/a/_tags/x', {});
    assert.deepEqual(await meta.list('n'), ['a']);
    await meta.put('n/b/c/_tags/y', {});
    assert.deepEqual(await meta.list('n'), ['a', 'b']);
    assert.deepEqual(await meta.list('n/b'), ['c']);
    await meta.put('n/b/d/_tags/z', {});
    assert.deepEqual(await meta.list('n/b'), ['c', 'd']);
    await meta.deleteTree('n/a');
    assert.deepEqual(await meta.list('n'), ['b']);
  });

  it('another process\'s change shows after the TTL, not before', async () => {
    await meta.put('x/tags/one', {});
    assert.deepEqual(await meta.list('x/tags'), ['one']);
    await writeFile(join(dir.path, 'x', 'tags', 'two'), '{}');
    assert.deepEqual(await meta.list('x/tags'), ['one'], 'cached within the TTL');
    clock += 2001;
    assert.deepEqual(await meta.list('x/tags'), ['one', 'two']);
  });

  it('pages by binary search give the same pages as a scan', () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    for (const last of [undefined, 't0000', 't0499', 't0998', 't0999', 't1', 'a', 'z', 't0499x']) {
      const page = paginate(sorted, '7', last);
      const want = sorted.filter((s) => last === undefined || s > last).slice(0, 7);
      assert.deepEqual(page.items, want, String(last));
    }
  });

  it('listView is the remembered listing, kept exact in place; a page of it is a copy', async () => {
    for (const t of ['b', 'a']) await meta.put(`v/_tags/${t}`, {});
    const view = await meta.listView('v/_tags');
    assert.equal(await meta.listView('v/_tags'), view, 'no copy per request');
    await meta.put('v/_tags/c', {});
    assert.deepEqual(view, ['a', 'b', 'c']);
    const page = paginate(view, '2', undefined);
    assert.deepEqual(page, { items: ['a', 'b'], next: 'b' });
    page.items.push('mutated');
    const whole = paginate(view, undefined, undefined);
    whole.items.push('mutated');
    assert.deepEqual(await meta.list('v/_tags'), ['a', 'b', 'c']);
  });

  it('derived values are computed once until a write lands or the TTL passes; one racing a write is not kept', async () => {
    let computed = 0;
    const names = (): Promise<string[]> => {
      computed++;
      return meta.list('d');
    };
    const size = (v: string[]): number => v.length;
    await meta.put('d/a', {});
    assert.deepEqual(await meta.derived('k', names, size), ['a']);
    assert.deepEqual(await meta.derived('k', names, size), ['a']);
    assert.equal(computed, 1, 'remembered');
    await meta.put('d/b', {});
    assert.deepEqual(await meta.derived('k', names, size), ['a', 'b'], 'a landed write makes it stale');
    assert.equal(computed, 2);
    await meta.delete('d/a');
    assert.deepEqual(await meta.derived('k', names, size), ['b']);
    clock += 2001;
    await meta.derived('k', names, size);
    assert.equal(computed, 4, 'recomputed after the TTL');
    // A write that lands while the value is computed: the result is handed out but not remembered.
    clock += 2001;
    const racing = async (): Promise<string[]> => {
      computed++;
      const v = await meta.list('d');
      await meta.put('d/c', {});
      return v;
    };
    assert.deepEqual(await meta.derived('k', racing, size), ['b']);
    assert.deepEqual(await meta.derived('k', names, size), ['b', 'c']);
    assert.equal(computed, 6);
  });
});
