import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { nodeSendStream } from '../../adapters/node-send.ts';
import type { ChunkSource } from '../../src/http/chunk-source.ts';
import type { Watcher } from '../../src/http/download-guard.ts';

// The Node pump (RuntimeCaps.sendStream) when the client is gone before the first chunk: the
// source's pending read may fail later, and that must not surface as an unhandled rejection,
// which would end the server process.
describe('Node stream send', () => {
  it('a source failing after its client left is closed and reported nowhere', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): number => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    let closed = 0;
    let ended = 0;
    let failNext: (e: Error) => void = () => {};
    const src: ChunkSource = {
      next: () => new Promise((_, reject) => (failNext = reject)),
      close: async () => void closed++,
    };
    const watcher: Watcher = () => ({ pulled: () => {}, delivered: () => {}, end: () => void ended++ });
    const sent = new Promise<Response | null>((resolve) => {
      const server = createServer((req, res) => {
        req.socket.destroy();
        void once(res, 'close').then(async () => {
          resolve(await nodeSendStream({ outgoing: res }, src, 200, { 'content-length': '10' }, watcher));
          server.close();
        });
      });
      server.listen(0, '127.0.0.1', () => {
        const r = request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', path: '/' });
        r.on('error', () => {});
        r.end();
      });
    });
    try {
      assert.notEqual(await sent, null, 'the pump took the response');
      failNext(new Error('upstream failed'));
      // Two macrotask turns: a rejection nobody handles is reported by then.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
      assert.equal(closed, 1, 'the source was closed');
      assert.equal(ended, 1, 'the download guard was told the body ended');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

// Issue 24, C: warm `go mod download` of 1,500 small files cost 2.5 CPU-s, 40 % of it V8's
// collector, because every file send took a 1 MiB buffer. A file that fits one read now gets a
// buffer of its own size; large files keep the pooled 1 MiB buffers.
describe('Node file send buffers', () => {
  it('small files take no 1 MiB send buffer; large ones still do, and every byte arrives', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { randomBytes } = await import('node:crypto');
    const { nodeSendFile, sendBuffersMade } = await import('../../adapters/node-send.ts');
    const dir = await mkdtemp(join(tmpdir(), 'node-send-'));
    const small = randomBytes(700);
    const large = randomBytes(3 << 20);
    await writeFile(join(dir, 'small'), small);
    await writeFile(join(dir, 'large'), large);
    const watcher: Watcher = () => ({ pulled: () => {}, delivered: () => {}, end: () => {} });
    const server = createServer((req, res) => {
      const body = req.url === '/large' ? large : small;
      void nodeSendFile({ outgoing: res }, { path: join(dir, req.url!.slice(1)), start: 0, end: body.length - 1 }, 200, { 'content-length': String(body.length) }, watcher);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const before = sendBuffersMade();
      for (let i = 0; i < 50; i++) {
        const got = Buffer.from(await (await fetch(`${base}/small`)).arrayBuffer());
        assert.ok(got.equals(small), `small file ${i} byte for byte`);
      }
      assert.equal(sendBuffersMade() - before, 0, '50 small files allocated no 1 MiB send buffer');
      const got = Buffer.from(await (await fetch(`${base}/large`)).arrayBuffer());
      assert.ok(got.equals(large), 'the large file byte for byte');
      assert.ok(sendBuffersMade() - before >= 1, 'a large file is sent from the pooled buffers');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
