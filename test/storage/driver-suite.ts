import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StorageDriver } from '../../src/storage/driver.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** One conformance suite; every driver (fs now, memory and S3 later) must pass it. */
export function driverSuite(make: () => Promise<{ driver: StorageDriver; cleanup: () => Promise<void> }>): void {
  const withDriver = (fn: (d: StorageDriver) => Promise<void>) => async () => {
    const { driver, cleanup } = await make();
    try {
      await fn(driver);
    } finally {
      await cleanup();
    }
  };

  it('absent keys read as null / empty', withDriver(async (d) => {
    assert.equal(await d.stat('a/b'), null);
    assert.equal(await d.open('a/b'), null);
    assert.equal(await d.readAll('a/b', 10), null);
    assert.deepEqual(await d.list('a'), []);
    assert.equal(await d.delete('a/b'), false);
  }));

  it('a write is invisible until commit, then atomic and readable at offsets', withDriver(async (d) => {
    const w = await d.create('tmp/1');
    await w.write(enc('hello '));
    await w.write(enc('world'));
    assert.equal(await d.stat('x/y'), null);
    await w.commit('x/y');
    assert.deepEqual(await d.stat('x/y').then((s) => s?.size), 11);
    const h = await d.open('x/y');
    assert.ok(h);
    assert.equal(new TextDecoder().decode(await h.read(6, 100)), 'world');
    assert.equal((await h.read(11, 10)).byteLength, 0);
    await h.close();
    assert.deepEqual(await d.list('x'), ['y']);
    assert.equal(await d.stat('tmp/1'), null, 'temp key gone after commit');
  }));

  it('a gathered write (writev, where the driver has it) lands the chunks in order', withDriver(async (d) => {
    const w = await d.create('tmp/7');
    const chunks = [enc('ab'), new Uint8Array(0), enc('cde'), enc('f'.repeat(70_000))];
    if (w.writev) await w.writev(chunks);
    else for (const c of chunks) await w.write(c);
    await w.write(enc('!'));
    await w.commit('gathered');
    const got = await d.readAll('gathered', 100_000);
    assert.equal(new TextDecoder().decode(got ?? new Uint8Array()), `abcde${'f'.repeat(70_000)}!`);
  }));

  it('abort removes the temp data and is idempotent', withDriver(async (d) => {
    const w = await d.create('tmp/2');
    await w.write(enc('partial'));
    await w.abort();
    await w.abort();
    assert.equal(await d.stat('tmp/2'), null);
  }));

  it('writeAtomic replaces documents; readAll enforces its limit', withDriver(async (d) => {
    await d.writeAtomic('doc', enc('one'), 'tmp/3');
    await d.writeAtomic('doc', enc('two!'), 'tmp/4');
    assert.equal(new TextDecoder().decode((await d.readAll('doc', 100)) ?? new Uint8Array()), 'two!');
    await assert.rejects(d.readAll('doc', 2));
  }));

  it('an open reader keeps working after the key is renamed over or deleted', withDriver(async (d) => {
    const w = await d.create('tmp/5');
    await w.write(enc('abcdef'));
    const h = await d.open('tmp/5');
    assert.ok(h);
    await w.commit('final');
    assert.equal(new TextDecoder().decode(await h.read(0, 6)), 'abcdef');
    await d.delete('final');
    assert.equal(new TextDecoder().decode(await h.read(2, 2)), 'cd');
    await h.close();
  }));

  it('append grows a key across handles; move renames it; deleteTree removes a folder', withDriver(async (d) => {
    const a = await d.append('up/1/data');
    await a.write(enc('abc'));
    await a.close();
    const b = await d.append('up/1/data');
    await b.write(enc('def'));
    await b.close();
    assert.equal((await d.stat('up/1/data'))?.size, 6);
    await d.truncate('up/1/data', 5);
    const c2 = await d.append('up/1/data');
    await c2.write(enc('f'));
    await c2.close();
    assert.equal((await d.stat('up/1/data'))?.size, 6);
    await d.writeAtomic('up/1/info', enc('{}'), 'tmp/6');
    await d.move('up/1/data', 'blobs/x');
    assert.equal(new TextDecoder().decode((await d.readAll('blobs/x', 10)) ?? new Uint8Array()), 'abcdef');
    assert.equal(await d.stat('up/1/data'), null);
    assert.equal(await d.deleteTree('up/1'), true);
    assert.deepEqual(await d.list('up'), []);
    assert.equal(await d.deleteTree('up/1'), false);
    await assert.rejects(d.move('nope', 'blobs/y'));
  }));

  it('refuses unsafe keys', withDriver(async (d) => {
    for (const k of ['', '../x', 'a/../b', '/abs', 'a//b', 'a\\b', 'a/.hidden', 'a\0b', 'a/%2e%2e']) {
      await assert.rejects(d.stat(k), Error, JSON.stringify(k));
    }
  }));
}
