import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { createDeflateRaw } from 'node:zlib';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const MODULE = 'corp.example/bomb';
const VERSION = 'v1.0.0';

/** Raw deflate of `total` zero bytes, made a MiB at a time (the test never holds the inflated bytes). */
async function deflatedZeros(total: number): Promise<Uint8Array> {
  const z = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (d: Buffer) => out.push(d));
  const zeros = Buffer.alloc(1 << 20);
  for (let n = 0; n < total; n += zeros.length) if (!z.write(zeros)) await once(z, 'drain');
  z.end();
  await once(z, 'end');
  return new Uint8Array(Buffer.concat(out));
}

/** A one-entry zip whose headers declare `declared` bytes for data that inflates to far more. */
function lyingZip(name: string, packed: Uint8Array, declared: number): Uint8Array {
  const n = new TextEncoder().encode(name);
  const local = new DataView(new ArrayBuffer(30));
  local.setUint32(0, 0x04034b50, true);
  local.setUint16(4, 20, true);
  local.setUint16(8, 8, true);
  local.setUint32(18, packed.byteLength, true);
  local.setUint32(22, declared, true);
  local.setUint16(26, n.byteLength, true);
  const c = new DataView(new ArrayBuffer(46));
  c.setUint32(0, 0x02014b50, true);
  c.setUint16(4, 20, true);
  c.setUint16(6, 20, true);
  c.setUint16(10, 8, true);
  c.setUint32(20, packed.byteLength, true);
  c.setUint32(24, declared, true);
  c.setUint16(28, n.byteLength, true);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, 1, true);
  end.setUint16(10, 1, true);
  end.setUint32(12, 46 + n.byteLength, true);
  end.setUint32(16, 30 + n.byteLength + packed.byteLength, true);
  return new Uint8Array(Buffer.concat([new Uint8Array(local.buffer), n, packed, new Uint8Array(c.buffer), n, new Uint8Array(end.buffer)]));
}

// Issue 24, 16: a go.mod whose header says 40 bytes but which inflates to 1 GiB. Before the fix it
// was inflated whole into memory (one 1 MB upload took a server from 170 MiB to 3.2 GiB RSS).
describe('Go local: a zip bomb is refused without inflating it', () => {
  let br: TestServer;
  let bomb: Uint8Array;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'golocal', format: 'go', type: 'local' }] } });
    bomb = lyingZip(`${MODULE}@${VERSION}/go.mod`, await deflatedZeros(1 << 30), 40);
  });
  after(() => br?.close());

  it('two uploads at once: 400 naming the lie, RSS flat, and the repo still answers', async () => {
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    try {
      const answers = await Promise.all(
        [0, 1].map(() => fetch(`${br.url}/repo/golocal/${MODULE}/@v/${VERSION}.zip`, { method: 'PUT', body: bomb }).then(async (r) => ({ status: r.status, text: await r.text() }))),
      );
      for (const a of answers) {
        assert.equal(a.status, 400, a.text);
        assert.match(a.text, /go\.mod inflates to more than the 40 bytes its header says/);
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peak - rss0 < 200 << 20, `RSS grew by ${Math.round((peak - rss0) / 2 ** 20)} MiB`);
    const list = await fetch(`${br.url}/repo/golocal/${MODULE}/@v/list`);
    assert.equal(list.status, 404, 'nothing was published');
    assert.match(await list.text(), /not found: corp\.example\/bomb/);
  });
});
