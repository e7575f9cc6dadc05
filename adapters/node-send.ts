import { open } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { Watcher } from '../src/http/download-guard.ts';

/** What @hono/node-server skips writing: the handler answered on the socket itself. */
const ALREADY_SENT = 'x-hono-already-sent';
/**
 * Node's own Response, captured before @hono/node-server's serve() swaps in its lighter one: that
 * one caches a null body and would write the head a second time; for this class the server reads
 * the marker header and writes nothing.
 */
const NativeResponse = globalThis.Response;
const CHUNK = 1 << 20;

/**
 * Node's native file send (RuntimeCaps.sendFile): opens the file first (a file gone since the
 * stat falls back to the portable path, which answers 404), writes the head, then copies the
 * range into the socket in 1 MiB reads, waiting for `drain` whenever the socket's buffer is full:
 * memory stays flat whatever the size, and a client that stops reading is cut off by the
 * download guard (idle only between a chunk handed over and the socket asking for more).
 */
export async function nodeSendFile(env: unknown, file: { path: string; start: number; end: number }, status: number, headers: Record<string, string>, watcher: Watcher): Promise<Response | null> {
  const out = (env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!out || out.headersSent || typeof out.writeHead !== 'function') return null;
  const fh = await open(file.path, 'r').catch(() => null);
  if (!fh) return null;
  out.writeHead(status, headers);
  void pump(out, fh, file.start, file.end, watcher);
  return new NativeResponse(null, { status, headers: { [ALREADY_SENT]: '1', ...(headers['content-length'] ? { 'content-length': headers['content-length'] } : {}) } });
}

async function pump(out: ServerResponse, fh: Awaited<ReturnType<typeof open>>, start: number, end: number, watcher: Watcher): Promise<void> {
  let cut: Error | undefined;
  const w = watcher((why) => {
    cut = why;
    out.destroy(why);
  });
  // Buffers come back to this pool once the socket has flushed them (the write callback): a
  // 1 GiB send allocates a few MiB, not a thousand buffers for the garbage collector.
  const pool: Buffer[] = [];
  const read = async (pos: number): Promise<Buffer> => {
    const len = Math.min(CHUNK, end - pos + 1);
    const buf = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    if (bytesRead === 0) throw new Error('file shorter than its size');
    return buf.subarray(0, bytesRead);
  };
  try {
    // One read ahead: the next chunk comes off the disk while the socket drains this one.
    let next: Promise<Buffer> | undefined = read(start);
    for (let pos = start; next && !cut && !out.destroyed; ) {
      w.pulled();
      const chunk = await next;
      pos += chunk.byteLength;
      next = pos <= end ? read(pos) : undefined;
      next?.catch(() => {}); // awaited on the next turn; a failure then is the one reported
      const whole = Buffer.from(chunk.buffer, chunk.byteOffset, CHUNK);
      const more = out.write(chunk, () => {
        if (pool.length < 4) pool.push(whole);
      });
      w.delivered();
      if (!more && !out.destroyed) await drained(out);
    }
    if (!cut && !out.destroyed) out.end();
  } catch (e) {
    out.destroy(e instanceof Error ? e : new Error(String(e)));
  } finally {
    w.end();
    await fh.close().catch(() => {});
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
