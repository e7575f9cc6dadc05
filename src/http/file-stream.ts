import type { ReadHandle } from '../storage/driver.ts';
import type { BodyWatch, Watcher } from './download-guard.ts';

const CHUNK = 256 * 1024;

/**
 * Bytes [start, end] (inclusive) of an open handle as a pull stream: one read per pull, so the
 * client's pace sets the disk's pace and memory stays at one chunk per connection.
 */
export function handleStream(handle: ReadHandle, start: number, end: number, watcher?: Watcher): ReadableStream<Uint8Array> {
  let pos = start;
  let closed = false;
  let watch: BodyWatch | undefined;
  const close = async (): Promise<void> => {
    watch?.end();
    if (closed) return;
    closed = true;
    await handle.close();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A consumer that stops taking bytes is cut off and the handle closed (download-guard.ts).
        watch = watcher?.((why) => {
          void close();
          controller.error(why);
        });
      },
      async pull(controller) {
        watch?.pulled();
        if (pos > end) {
          await close();
          controller.close();
          return;
        }
        const chunk = await handle.read(pos, Math.min(CHUNK, end - pos + 1));
        if (chunk.byteLength === 0) {
          await close();
          controller.error(new Error('file ended early'));
          return;
        }
        pos += chunk.byteLength;
        controller.enqueue(chunk);
        watch?.delivered();
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
}
