import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** One 512-byte ustar header. */
function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/** A gzip'd tar of entries, each a header plus `size` bytes of `fill` (streamed: a 190 MiB entry never sits in memory). */
async function archive(entries: Array<{ name: string; size: number; type?: string; fill?: string }>): Promise<Uint8Array> {
  const gz = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gz.on('data', (d: Buffer) => out.push(d));
  const write = async (b: Buffer): Promise<void> => {
    if (!gz.write(b)) await once(gz, 'drain');
  };
  for (const e of entries) {
    await write(header(e.name, e.size, e.type ?? '0'));
    const chunk = Buffer.alloc(1 << 20, e.fill ?? 'a');
    for (let left = e.size; left > 0; left -= chunk.length) await write(left >= chunk.length ? chunk : chunk.subarray(0, left));
    if (e.size % 512) await write(Buffer.alloc(512 - (e.size % 512)));
  }
  await write(Buffer.alloc(1024));
  gz.end();
  await once(gz, 'end');
  return new Uint8Array(Buffer.concat(out));
}

// Issue 24, 19: the Helm upload inspector never answered when it refused an archive mid-stream, and
// each such request left its temp file behind (300 requests, 300 files).
describe('Helm uploads refused mid-stream get an answer and leave nothing behind', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'charts', format: 'helm', type: 'local' }] } });
  });
  after(() => br?.close());

  const cases: Array<[string, () => Promise<Uint8Array>, RegExp]> = [
    ['a Chart.yaml declared over 1 MiB', () => archive([{ name: 'c/Chart.yaml', size: 2 << 20 }]), /Chart\.yaml is larger than 1 MiB/],
    ['more than 10,000 entries', () => archive(Array.from({ length: 10_001 }, (_, i) => ({ name: `c/f${i}`, size: 0 }))), /more than 10000 entries/],
    ['a 50 MiB GNU long name', () => archive([{ name: '././@LongLink', size: 50 << 20, type: 'L' }, { name: 'c/Chart.yaml', size: 10 }]), /Header exceeds max size/],
    ['a 190 MiB pax header', () => archive([{ name: 'pax', size: 190 << 20, type: 'x', fill: '9' }, { name: 'c/Chart.yaml', size: 10 }]), /Header exceeds max size|unpacks to more than/],
  ];
  for (const [what, make, reason] of cases) {
    it(`${what}: 4xx with the reason, no temp file left`, async () => {
      const body = await make();
      const res = await fetch(`${br.url}/repo/charts/api/charts`, { method: 'POST', body, signal: AbortSignal.timeout(60_000) });
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
      assert.match(text, reason);
      await br.server.fills.idle();
      const left = await readdir(join(br.dataDir, 'v1', 'tmp')).catch(() => []);
      assert.deepEqual(left, [], 'temp files left');
    });
  }
});
