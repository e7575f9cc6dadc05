import type { ChunkSource } from '../http/chunk-source.ts';
import type { Fill } from './fills.ts';

/**
 * A fill's bytes [start, end) for one client that survives one failure of the fill: the source
 * goes on from the position it reached with a fresh fill (`rejoin`), so a client that joined a
 * download that then stalled or broke gets its blob once the upstream answers again, and one whose
 * fill failed before any byte was sent never sees the failure at all. A second failure is final.
 */
export function resumingSource(first: Fill, start: number, end: number | undefined, rejoin: () => Promise<Fill>): ChunkSource {
  let pos = start;
  let cursor = first.cursor(pos, end);
  let resumed = false;
  let closed = false;
  return {
    next: async () => {
      for (;;) {
        try {
          const chunk = await cursor.next();
          if (chunk) pos += chunk.byteLength;
          return chunk;
        } catch (e) {
          if (resumed || closed) throw e;
          resumed = true;
          const again = await rejoin();
          // Closed while the fresh fill was being joined: open nothing more for a body nobody reads.
          if (closed) return null;
          cursor = again.cursor(pos, end);
        }
      }
    },
    close: () => {
      closed = true;
      return cursor.close();
    },
  };
}

/** A fill joined for one client: what it costs (MISS / COALESCED / HIT), its size, a resumable body. */
export interface JoinedFill {
  fill: Fill;
  coalesced: boolean;
  /** Every byte is verified (or committed): joining it is a hit in all but name. */
  complete: boolean;
  /** Known even when the upstream announced none, once every byte is in. */
  size: number | undefined;
  /** Bytes [start, end) for this client, resuming once with a fresh fill (resumingSource). */
  open: (start: number, end?: number) => ChunkSource;
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
  const open = (start: number, end?: number): ChunkSource =>
    resumingSource(first, start, end, async () => {
      const again = join().fill;
      await again.ready;
      return again;
    });
  return { fill, coalesced, complete, size: fill.size ?? (complete ? fill.written : undefined), open };
}
