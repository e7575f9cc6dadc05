import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineBatcher } from '../../adapters/common.ts';

// The adapters' log sink: lines of one event-loop turn become one write, in order, nothing lost.
describe('lineBatcher', () => {
  it('joins the lines of one turn into one write, in order', async () => {
    const writes: string[] = [];
    let wrote: () => void = () => {};
    const written = new Promise<void>((r) => (wrote = r));
    const b = lineBatcher((t) => {
      writes.push(t);
      wrote();
    });
    b.sink('{"a":1}');
    b.sink('{"b":2}');
    b.sink('{"c":3}');
    assert.deepEqual(writes, [], 'nothing written within the turn');
    await written;
    assert.deepEqual(writes, ['{"a":1}\n{"b":2}\n{"c":3}\n']);
  });

  it('flush writes what is pending at once and cancels the timer', () => {
    const writes: string[] = [];
    const b = lineBatcher((t) => writes.push(t));
    b.sink('one');
    b.flush();
    b.flush();
    assert.deepEqual(writes, ['one\n']);
  });

  it('past 64 KiB the pending lines go at once, without waiting for the turn to end', () => {
    const writes: string[] = [];
    const b = lineBatcher((t) => writes.push(t));
    const line = 'x'.repeat(1023);
    for (let i = 0; i < 64; i++) b.sink(line);
    assert.equal(writes.length, 1);
    assert.equal(writes[0], `${line}\n`.repeat(64));
    b.sink('tail');
    b.flush();
    assert.deepEqual(writes.slice(1), ['tail\n']);
  });
});
