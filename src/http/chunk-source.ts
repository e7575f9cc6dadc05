import type { ReadHandle } from '../storage/driver.ts';
import type { BodyWatch, Watcher } from './download-guard.ts';
import { once } from '../util/once.ts';

const CHUNK = 256 * 1024;

/**
 * A response body as a pull source: `next` resolves to the next chunk, or null after the last;
 * `close` releases what the source holds (a file handle), at any time and more than once. Every
 * streamed body (cached files, downloads in progress) is one, so a runtime can send it its own
 * way (RuntimeCaps.sendStream) and every other runtime gets the same bytes as a Web stream.
 */
export interface ChunkSource {
  next(): Promise<Uint8Array | null>;
  close(): Promise<void>;
}

/**
 * A source as a pull stream, watched by the download guard: one `next` per pull, so the client's
 * pace sets the source's pace and memory stays at one chunk per connection; a consumer that stops
 * taking bytes is cut off and the source closed.
 */
export function watchedStream(src: ChunkSource, watcher?: Watcher): ReadableStream<Uint8Array> {
  let watch: BodyWatch | undefined;
  const close = async (): Promise<void> => {
    watch?.end();
    await src.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        watch = watcher?.((why) => {
          void close().catch(() => {});
          controller.error(why);
        });
      },
      async pull(controller) {
        watch?.pulled();
        let chunk: Uint8Array | null;
        try {
          chunk = await src.next();
        } catch (e) {
          await close().catch(() => {});
          throw e;
        }
        if (chunk === null) {
          await close();
          controller.close();
          return;
        }
        controller.enqueue(chunk);
        watch?.delivered();
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}

/** Bytes [start, end] (inclusive) of an open handle, one read of up to 256 KiB per chunk. */
export function handleSource(handle: ReadHandle, start: number, end: number): ChunkSource {
  let pos = start;
  const close = once(() => handle.close());
  return {
    async next() {
      if (pos > end) return null;
      const chunk = await handle.read(pos, Math.min(CHUNK, end - pos + 1));
      if (chunk.byteLength === 0) throw new Error('file ended early');
      pos += chunk.byteLength;
      return chunk;
    },
    close,
  };
}
