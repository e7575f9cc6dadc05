import type { BodyWatch, Watcher } from '../http/download-guard.ts';
import type { Fill } from './fills.ts';

/**
 * A fill's bytes [start, end) for one client that survives one failure of the fill: the reader
 * goes on from the position it reached with a fresh fill (`rejoin`), so a client that joined a
 * download that then stalled or broke gets its blob once the upstream answers again, and one whose
 * fill failed before any byte was sent never sees the failure at all. A second failure is final.
 */
export function resumingReader(first: Fill, start: number, end: number | undefined, rejoin: () => Promise<Fill>, watcher?: Watcher): ReadableStream<Uint8Array> {
  let pos = start;
  let reader = first.reader(pos, end).getReader();
  let resumed = false;
  let watch: BodyWatch | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => {
        // A consumer that stops taking bytes is cut off (download-guard.ts); the fill goes on.
        watch = watcher?.((why) => {
          reader.cancel(why).catch(() => {});
          controller.error(why);
        });
      },
      pull: async (controller) => {
        watch?.pulled();
        for (;;) {
          try {
            const r = await reader.read();
            if (r.done) {
              watch?.end();
              controller.close();
              return;
            }
            pos += r.value.byteLength;
            controller.enqueue(r.value);
            watch?.delivered();
            return;
          } catch (e) {
            if (resumed) {
              watch?.end();
              throw e;
            }
            resumed = true;
            reader = (await rejoin()).reader(pos, end).getReader();
          }
        }
      },
      cancel: (reason) => {
        watch?.end();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A fill joined for one client: what it costs (MISS / COALESCED / HIT), its size, a resumable body. */
export interface JoinedFill {
  fill: Fill;
  coalesced: boolean;
  /** Every byte is verified (or committed): joining it is a hit in all but name. */
  complete: boolean;
  /** Known even when the upstream announced none, once every byte is in. */
  size: number | undefined;
  /** Bytes [start, end) for this client, resuming once with a fresh fill (resumingReader). */
  open: (start: number, end?: number, watcher?: Watcher) => ReadableStream<Uint8Array>;
}

/**
 * Joins (or starts) the one download of something for a client, whatever the format: a client that
 * joined a download which failed before it had anything gets a fresh one, and its body goes on with
 * a fresh fill if the download fails midway. `join` is the format's call to FillManager.join.
 */
export async function joinResumable(join: () => { fill: Fill; coalesced: boolean }): Promise<JoinedFill> {
  let { fill, coalesced } = join();
  try {
    await fill.ready;
  } catch (e) {
    if (!coalesced) throw e;
    ({ fill, coalesced } = join());
    await fill.ready;
  }
  const complete = fill.state === 'verified' || fill.state === 'done';
  const first = fill;
  const open = (start: number, end?: number, watcher?: Watcher): ReadableStream<Uint8Array> =>
    resumingReader(
      first,
      start,
      end,
      async () => {
        const again = join().fill;
        await again.ready;
        return again;
      },
      watcher,
    );
  return { fill, coalesced, complete, size: fill.size ?? (complete ? fill.written : undefined), open };
}
