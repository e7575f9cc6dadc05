import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { peakRssMb } from '../../bench/memory.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// "Memory stays flat whatever the size": a 384 MiB blob through a Node server process, cold (the
// fill streamed to the client as it arrives) and warm (the cached file), must not raise the
// server's peak RSS anywhere near the blob's size. A pump that kept each chunk reachable until the
// response ended held the whole blob (1.1 GB for a 1 GiB layer in the bench); this catches that.
const CHUNK = new Uint8Array(randomBytes(1 << 20));
const CHUNKS = 384;
const SIZE = CHUNK.byteLength * CHUNKS;
const digest = (() => {
  const h = createHash('sha256');
  for (let i = 0; i < CHUNKS; i++) h.update(CHUNK);
  return `sha256:${h.digest('hex')}`;
})();

describe('memory stays flat sending a large blob (Node process)', () => {
  let upstream: ServerType;
  let upstreamUrl = '';
  let blobGets = 0;
  let srv: ProcessServer;
  let dir: { path: string; cleanup: () => Promise<void> };

  before(async () => {
    // A fault-free upstream that streams the blob from one 1 MiB chunk, with a call counter.
    const app = new Hono();
    app.get('/v2/', (c) => c.json({}));
    app.on(['GET', 'HEAD'], `/v2/big/blobs/${digest}`, (c) => {
      const headers = { 'content-length': String(SIZE), 'docker-content-digest': digest, 'content-type': 'application/octet-stream' };
      if (c.req.method === 'HEAD') return new Response(null, { headers });
      blobGets++;
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(ctl) {
          if (sent++ === CHUNKS) ctl.close();
          else ctl.enqueue(CHUNK);
        },
      });
      return new Response(body, { headers });
    });
    upstream = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
        upstreamUrl = `http://127.0.0.1:${info.port}`;
        resolve(s);
      });
    });
    dir = await tempDir('memory-flat-');
    srv = await startProcessServer('node', { storage: { type: 'fs', path: `${dir.path}/data` }, log: { requests: false }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: upstreamUrl } }] }, dir.path);
  });
  after(() => closeAll(() => srv?.stop(), () => new Promise<void>((r) => upstream?.close(() => r())), () => dir?.cleanup()));

  it('cold and warm, the peak RSS stays far below the blob size', async () => {
    const base = await peakRssMb(srv.child.pid ?? 0);
    for (const pass of ['cold', 'warm']) {
      const res = await fetch(`${srv.url}/repo/hub/v2/big/blobs/${digest}`);
      assert.equal(res.status, 200, pass);
      const h = createHash('sha256');
      let got = 0;
      for await (const c of res.body ?? []) {
        h.update(c);
        got += c.byteLength;
      }
      assert.equal(got, SIZE, pass);
      assert.equal(`sha256:${h.digest('hex')}`, digest, pass);
    }
    assert.equal(blobGets, 1, 'one upstream GET; the second pass was served from the cache');
    const peak = await peakRssMb(srv.child.pid ?? 0);
    assert.ok(peak - base < 150, `peak RSS grew by ${(peak - base).toFixed(0)} MB (from ${base.toFixed(0)}) sending ${SIZE >> 20} MiB`);
  });
});
