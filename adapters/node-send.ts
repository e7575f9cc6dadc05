import { open } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ServerResponse } from 'node:http';
import type { ChunkSource } from '../src/http/chunk-source.ts';
import type { Watcher } from '../src/http/download-guard.ts';

/** What @hono/node-server skips writing: the handler answered on the socket itself. */
const ALREADY_SENT = 'x-hono-already-sent';
/**
 * Node's own Response, captured before @hono/node-server's serve() swaps in its lighter one: that
 * one caches a null body and would write the head a second time; for this class the server reads
 * the marker header and writes nothing.
 */
const NativeResponse = globalThis.Response;
/**
 * Reads of 512 KiB into buffers of 1 MiB. 512 KiB sends as fast as 1 MiB here (20 × 100 MB over
 * curl, 5 interleaved rounds: median 716 against 748 ms) and a client that stops reading holds
 * about half as much (500 stalled downloads: ~810 KiB each against ~1,530; issue 24, 21). The
 * buffer stays 1 MiB so that the allocator maps it on its own (glibc's mmap threshold) and gives
 * it back to the system when freed; only the pages read into count in RSS. With buffers of the
 * read size (256 KiB tried) the stalled downloads left 350 MB resident after they went.
 */
const CHUNK = 512 << 10;
const BUFFER = 1 << 20;

/**
 * Send buffers are freed only when V8 next collects them, and V8 schedules that collection by its
 * own heap, not by these buffers (they live outside it): after a burst of stalled downloads went
 * away, 300 MB stayed resident for 2 to 30+ s, sometimes longer (the stalled-downloads test failed
 * on a loaded CI machine). So when the buffers live at once fall from a burst (PEAK_BYTES or more)
 * to none, one full collection is asked for, a second later (debounced), and the memory goes back
 * at once. `--expose-gc` is set for this process only here; nothing else calls it.
 */
const PEAK_BYTES = 64 << 20;
let liveBuffers = 0;
let madeTotal = 0;
let peak = 0;
let collect: ReturnType<typeof setTimeout> | undefined;
let gcFn: (() => void) | null | undefined;
function buffersGone(n: number): void {
  liveBuffers -= n;
  if (liveBuffers > 0 || peak < PEAK_BYTES / BUFFER) return;
  peak = 0;
  if (collect) clearTimeout(collect);
  collect = setTimeout(() => {
    collect = undefined;
    if (gcFn === undefined) {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
    gcFn?.();
  }, 1000);
  collect.unref();
}

/** Send buffers (BUFFER bytes each) allocated since the process started: what the tests hold small files to. */
export function sendBuffersMade(): number {
  return madeTotal;
}

/** A source whose chunks may be handed back once the socket has flushed them (pooled buffers). */
type PumpSource = ChunkSource & { recycle?(chunk: Uint8Array): void };

function outgoingOf(env: unknown): ServerResponse | null {
  const out = (env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  return out && !out.headersSent && typeof out.writeHead === 'function' ? out : null;
}

/**
 * Node's native file send (RuntimeCaps.sendFile): opens the file first (a file gone since the
 * stat falls back to the portable path, which answers 404), then pumps the range into the socket
 * in 512 KiB reads (fileSource).
 */
export async function nodeSendFile(env: unknown, file: { path: string; start: number; end: number }, status: number, headers: Record<string, string>, watcher: Watcher): Promise<Response | null> {
  const out = outgoingOf(env);
  if (!out) return null;
  const fh = await open(file.path, 'r').catch(() => null);
  if (!fh) return null;
  return sendOn(out, fileSource(fh, file.start, file.end), status, headers, watcher);
}

/**
 * Node's native body send (RuntimeCaps.sendStream): a download in progress pumped straight into
 * the socket, without the two Web-stream layers (ours and @hono/node-server's reader) per chunk.
 */
export async function nodeSendStream(env: unknown, src: ChunkSource, status: number, headers: Record<string, string>, watcher: Watcher): Promise<Response | null> {
  const out = outgoingOf(env);
  return out ? sendOn(out, src, status, headers, watcher, true) : null;
}

/**
 * Writes the head and starts the pump. `flush`: send the head at once rather than with the first
 * chunk, for sources that may wait (a download in progress): the client has its answer while the
 * upstream is slow, and a fill that then fails breaks the body, not the response.
 */
function sendOn(out: ServerResponse, src: PumpSource, status: number, headers: Record<string, string>, watcher: Watcher, flush = false): Response {
  out.writeHead(status, headers);
  if (flush) out.flushHeaders();
  void pump(out, src, watcher);
  return new NativeResponse(null, { status, headers: { [ALREADY_SENT]: '1', ...(headers['content-length'] ? { 'content-length': headers['content-length'] } : {}) } });
}

/**
 * Bytes [start, end] of a file in 512 KiB reads (CHUNK). Buffers come back to a small pool once the socket
 * has flushed them (recycle): a 1 GiB send allocates a few MiB, not a thousand buffers for the
 * garbage collector.
 */
function fileSource(fh: Awaited<ReturnType<typeof open>>, start: number, end: number): PumpSource {
  const pool: Buffer[] = [];
  let pos = start;
  let made = 0;
  // A file that fits one read gets a buffer of its own size (from Node's shared pool when tiny):
  // a 1 MiB buffer per .info or .mod made V8 collect its heap again and again for memory it does
  // not manage (go mod download, 1,500 small files warm: 2.5 CPU-s, 40 % of it the collector;
  // issue 24, C).
  const small = end - start + 1 <= CHUNK;
  return {
    async next() {
      if (pos > end) return null;
      let buf = small ? Buffer.allocUnsafe(end - pos + 1) : pool.pop();
      if (!buf) {
        buf = Buffer.allocUnsafeSlow(BUFFER);
        made++;
        madeTotal++;
        peak = Math.max(peak, ++liveBuffers);
      }
      const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error('file shorter than its size');
      pos += bytesRead;
      return buf.subarray(0, bytesRead);
    },
    recycle(chunk) {
      if (!small && pool.length < 4) pool.push(Buffer.from(chunk.buffer, chunk.byteOffset, BUFFER));
    },
    close: () => {
      buffersGone(made);
      made = 0;
      return fh.close().catch(() => {});
    },
  };
}

/**
 * Copies a source into the socket with one chunk read ahead (the next comes off the disk or the
 * fill while the socket drains this one), waiting for `drain` whenever the socket's buffer is full:
 * memory stays flat whatever the size. A client that stops reading is cut off by the download
 * guard (idle only between a chunk handed over and the socket asking for more); one that goes away
 * ends the pump at once, even while the source waits on a slow upstream.
 */
async function pump(out: ServerResponse, src: PumpSource, watcher: Watcher): Promise<void> {
  let cut: Error | undefined;
  const w = watcher((why) => {
    cut = why;
    out.destroy(why);
  });
  // The client going away ends a wait for the source. Not Promise.race with one long-lived
  // promise: every race would leave a reaction on it holding its chunk until the socket closed
  // (a 1 GiB send held 1 GiB).
  let wake: (() => void) | undefined;
  out.once('close', () => wake?.());
  const nextOrGone = (p: Promise<Uint8Array | null>): Promise<Uint8Array | null> =>
    out.destroyed
      ? Promise.resolve(null)
      : new Promise((resolve, reject) => {
          wake = () => resolve(null);
          p.then(resolve, reject);
        });
  try {
    let next = src.next();
    // Handled now, awaited below: a client already gone skips the loop, and a read that then fails
    // must not become an unhandled rejection (that ends a Node process).
    next.catch(() => {});
    while (!cut && !out.destroyed) {
      w.pulled();
      const chunk = await nextOrGone(next);
      wake = undefined;
      if (chunk === null) break;
      next = src.next();
      next.catch(() => {}); // as above
      const more = out.write(chunk, () => src.recycle?.(chunk));
      w.delivered();
      if (!more && !out.destroyed) await drained(out);
    }
    if (!cut && !out.destroyed) out.end();
  } catch (e) {
    out.destroy(e instanceof Error ? e : new Error(String(e)));
  } finally {
    w.end();
    await src.close().catch(() => {});
  }
}

/** Resolves on `drain` or `close`, removing both listeners either way (one wait per full buffer). */
function drained(out: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
