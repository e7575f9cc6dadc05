import type { Watcher } from './download-guard.ts';
import type { ChunkSource } from './chunk-source.ts';
import type { ReadHandle } from '../storage/driver.ts';
/**
 * What the adapter knows about its runtime and the core may use. Everything optional has a portable
 * fallback in src/, so the core runs the same on every runtime.
 */
/** Anything a Response can be made of (BodyInit is a DOM-lib name). */
export type ResponseBody = NonNullable<ConstructorParameters<typeof Response>[0]>;

export interface RuntimeCaps {
  name: string;
  version: string;
  /**
   * A native body for bytes [start, end] (inclusive) of a file, so the runtime sends it with its
   * own fast path and a real Content-Length (Bun drops a handler-set length on stream bodies). It
   * must hold no file handle while the client waits (Bun's Blob): the download guard never sees
   * it. Returns null where the runtime has nothing better than the portable stream.
   */
  fileBody?(path: string, start: number, end: number, size: number): Promise<ResponseBody | null>;
  /**
   * A local file opened with the runtime's own file API, where that reads faster than the portable
   * driver's handle (Deno: node:fs compatibility costs a layer per read). The core streams it and
   * reports every chunk to the download guard itself. Null when the file cannot be opened.
   */
  openFile?(path: string): Promise<ReadHandle | null>;
  /**
   * Sends bytes [start, end] (inclusive) of a file as the whole response itself, straight from
   * the file into the connection (Node: a file stream piped into the socket, with backpressure),
   * every chunk reported to `watch` like any body the download guard counts. Returns the Response
   * the framework must treat as already sent, or null where it cannot (then the portable stream is
   * used). `env` is what the adapter passed to `app.fetch`.
   */
  sendFile?(env: unknown, file: { path: string; start: number; end: number }, status: number, headers: Record<string, string>, watch: Watcher): Promise<Response | null>;
  /**
   * Sends a body source (a download in progress, a file through the portable driver) as the whole
   * response itself, straight into the connection with backpressure, every chunk reported to
   * `watch`; closes the source when done. Null where it cannot (then the source goes out as a
   * watched Web stream).
   */
  sendStream?(env: unknown, src: ChunkSource, status: number, headers: Record<string, string>, watch: Watcher): Promise<Response | null>;
  /**
   * The client's network address for a request, from what the adapter passed to `app.fetch` as
   * its env. Per-client limits (failed logins, open downloads) key on it; '' when unknown.
   */
  clientAddress?(req: Request, env: unknown): string | undefined;
}

/** Per-request facts: what the handlers fill in for the access log line, and the adapter's env. */
export interface RequestInfo {
  /** The client's address ('' when the runtime does not say). */
  client: string;
  /** What the adapter passed to `app.fetch` (Node: the request and response objects), for `sendFile`. */
  env?: unknown;
  repo?: string;
  /** The repo's format, for metrics labels. */
  format?: string;
  /** Who the request was authenticated as (the audit trail of pushes and deletes). */
  user?: string;
  cache?: string;
  upstreamStatus?: number;
  error?: string;
}
