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
