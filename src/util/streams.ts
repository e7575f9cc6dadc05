import { RegistryError } from '../errors.ts';
import type { ErrorKind } from '../errors.ts';
import { concat } from './bytes.ts';
import type { NativeBody } from './native-body.ts';

/**
 * Iterates a body, failing when no bytes arrive for idleMs. There is deliberately no total-time
 * limit: a 10 GB layer on a slow link is fine as long as it keeps moving.
 */
export async function* idleTimeoutBody(
  body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  idleMs: number,
  what: string,
  /** 'upstream' for fetched bodies; 'invalid' for a client's request body that stalls or breaks. */
  kind: ErrorKind = 'upstream',
  /** false for request bodies: the rest is left readable (a refused push drains it to answer cleanly). */
  cancelOnExit = true,
): AsyncGenerator<Uint8Array> {
  const reader = readerOf(body);
  // One watchdog per body, not a timer per chunk: at 64 KiB chunks a per-chunk timer and race
  // cost more than the copy. Only time spent waiting for the source counts as idle.
  let waitingSince: number | undefined;
  let stalled: RegistryError | undefined;
  const watchdog = setInterval(
    () => {
      if (waitingSince !== undefined && Date.now() - waitingSince >= idleMs && !stalled) {
        stalled = new RegistryError(kind, `${what}: no bytes received for ${idleMs / 1000}s`);
        reader.cancel(stalled).catch(() => {});
      }
    },
    Math.max(20, Math.min(1000, Math.floor(idleMs / 4))),
  );
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      waitingSince = Date.now();
      try {
        r = await reader.read();
      } catch (e) {
        if (stalled) throw stalled;
        if (e instanceof RegistryError) throw e;
        throw new RegistryError(kind, `${what}: connection failed mid-body`, { cause: e });
      } finally {
        waitingSince = undefined;
      }
      if (stalled) throw stalled;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    clearInterval(watchdog);
    // Whether we finished, failed or the consumer stopped early: release the socket.
    if (cancelOnExit || stalled) reader.cancel().catch(() => {});
    else reader.releaseLock();
  }
}

export interface BodyReader {
  read(): Promise<{ done: true; value?: Uint8Array } | { done: false; value: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** A Web stream's reader, or the same three operations over an async iterable (a native body). */
export function readerOf(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): BodyReader {
  if (body instanceof ReadableStream) return body.getReader();
  const it = body[Symbol.asyncIterator]();
  const cancel = (body as Partial<NativeBody>).cancel;
  return {
    read: async () => {
      const r = await it.next();
      return r.done ? { done: true } : { done: false, value: r.value };
    },
    // A native body is ended at once (its pending read fails); a plain iterable when it next yields.
    cancel: async () => {
      if (cancel) cancel.call(body);
      else await it.return?.();
    },
    releaseLock: () => {},
  };
}

/** Reads a small body whole, refusing more than maxBytes (manifests, token answers). */
export async function readLimited(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  idleMs: number,
  what: string,
  kind: ErrorKind = 'upstream',
): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of idleTimeoutBody(body, idleMs, what, kind)) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new RegistryError('too_large', `${what} is larger than ${maxBytes} bytes`, { code: 'SIZE_INVALID' });
    }
    parts.push(chunk);
  }
  if (parts.length === 1 && parts[0]) return parts[0];
  return concat(parts, total);
}

/**
 * A JSON request body of at most `max` bytes, read with the body idle timeout (a stalled body must
 * not hold its connection); null when it is not JSON, too large or stalls.
 */
export async function readJsonBody(req: Request, max: number, idleMs: number): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readLimited(req.body, max, idleMs, 'request body', 'invalid'))) as unknown;
  } catch {
    await req.body?.cancel().catch(() => {});
    return null;
  }
}

/** An iterable's chunks, whole, refused past `maxBytes` (a small part of a form, a provenance file). */
export async function collectLimited(chunks: AsyncIterable<Uint8Array>, maxBytes: number, what: string): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of chunks) {
    total += c.byteLength;
    if (total > maxBytes) throw new RegistryError('too_large', `${what} is larger than ${maxBytes} bytes`, { code: 'TOO_LARGE' });
    parts.push(c);
  }
  return concat(parts, total);
}

/** Bytes of a refused request body we still read, so the client sees our answer, not a reset. */
const DRAIN_MAX = 64 * 1024 * 1024;

/**
 * Reads and drops what is left of a request body (bounded), after a failure mid-body: a client
 * still sending when we answer would otherwise get a broken pipe instead of the error (Docker
 * pushes, Debian uploads).
 */
export async function drainRequest(req: Request): Promise<void> {
  if (!req.body || req.body.locked) return;
  let seen = 0;
  try {
    const reader = req.body.getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done || (seen += r.value.byteLength) > DRAIN_MAX) break;
    }
    reader.releaseLock();
  } catch {
    // The client went away: nothing to drain.
  }
}
