import type { RequestInfo, RuntimeCaps } from './runtime.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import type { DownloadGuard, Watcher } from './download-guard.ts';
import { handleSource, watchedStream } from './chunk-source.ts';
import type { ChunkSource } from './chunk-source.ts';
import { parseRange } from './range.ts';
import { withContentSafety } from './content-safety.ts';
import { RegistryError } from '../errors.ts';
import { notModified } from './conditional.ts';
import type { ServerMetrics } from '../metrics/registry.ts';

export interface ServeDeps {
  blobs: BlobStore;
  runtime: RuntimeCaps;
  /** Every streamed body is counted for `client` and cut off when its consumer stalls. */
  downloads: DownloadGuard;
  client: string;
  /** The adapter's env for `runtime.sendFile`. */
  env?: unknown;
  /** Counts the body bytes announced, by the answer's X-Cache (every format's traffic in one counter). */
  served?: (bytes: number, cache: string) => void;
}

/** The serving deps of one request. */
export function serveDeps(core: { blobs: BlobStore; runtime: RuntimeCaps; downloads: DownloadGuard; metrics: ServerMetrics }, info: RequestInfo): ServeDeps {
  return { blobs: core.blobs, runtime: core.runtime, downloads: core.downloads, client: info.client, env: info.env, served: servedCounter(core.metrics, info) };
}

/** Bytes served, by repo, format and whether they came from the cache or the upstream (X-Cache). */
export function servedCounter(metrics: ServerMetrics, info: RequestInfo): (bytes: number, cache: string) => void {
  return (bytes, cache) => {
    const fromStore = cache === 'HIT' || cache === 'STALE' || cache === 'LOCAL' || cache === 'REVALIDATED';
    metrics.bytesServed.inc({ repo: info.repo ?? '', format: info.format ?? '', source: fromStore ? 'cache' : 'upstream' }, bytes);
  };
}

/** Where the bytes come from: the store, or a download in progress (bytes [start, end) as they arrive). */
export type BlobSource =
  | { kind: 'store'; digest: Digest; size: number }
  | { kind: 'stream'; size: number | undefined; open: (start: number, end: number | undefined) => ChunkSource };

/**
 * A blob as an HTTP answer with single Range support (206, or 416 with the size) and HEAD without
 * opening anything. `headers` are the format's own (type, digests, validators); `notModified`
 * answers a conditional request before any byte is read. Cached files go through the runtime's
 * fastest way where it has one (Node's socket pump, Deno's own file handle, Bun's sendfile).
 */
export async function serveBlob(
  req: Request,
  src: BlobSource,
  headers: Record<string, string>,
  deps: ServeDeps,
  opts: { notModified?: boolean; unsatisfiable?: (size: number) => Response } = {},
): Promise<Response> {
  const head = req.method === 'HEAD';
  // The format may decide (a validator it knows better); else its ETag and Last-Modified do.
  if (opts.notModified ?? notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  // Stored blobs may be fetched from the bucket directly: the bytes (ranges included) skip the replicas.
  const away = !head && src.kind === 'store' ? await deps.blobs.redirectUrl(src.digest) : undefined;
  if (away) return new Response(null, { status: 307, headers: { ...headers, location: away } });
  const out: Record<string, string> = withContentSafety({ 'accept-ranges': 'bytes', ...headers });
  const size = src.size;
  let start = 0;
  let end = size === undefined ? undefined : size - 1;
  let status = 200;
  if (size !== undefined) {
    const range = parseRange(ifRangeHolds(req, headers) ? req.headers.get('range') : null, size);
    if (range.kind === 'unsatisfiable') {
      return opts.unsatisfiable?.(size) ?? new Response(null, { status: 416, headers: { ...out, 'content-range': `bytes */${size}` } });
    }
    if (range.kind === 'ok') {
      ({ start, end } = range);
      status = 206;
      out['content-range'] = `bytes ${start}-${end}/${size}`;
    }
  }
  if (end !== undefined) out['content-length'] = String(end - start + 1);
  if (head) return new Response(null, { status, headers: out });
  if (end !== undefined) deps.served?.(end - start + 1, headers['x-cache'] ?? '');
  const watcher = deps.downloads.watcherFor(deps.client);
  if (src.kind === 'stream') return send(src.open(start, end === undefined ? undefined : end + 1), status, out, deps, watcher);
  if (src.size === 0) return new Response(new Uint8Array(0), { status, headers: out });
  const last = end ?? 0;
  const path = deps.blobs.localPath(src.digest);
  // Node: the file piped into the socket by the adapter, no web-stream layers in between.
  const sent = path && deps.runtime.sendFile ? await deps.runtime.sendFile(deps.env, { path, start, end: last }, status, out, watcher) : null;
  if (sent) return sent;
  // Deno: the runtime's own file handle under our watched stream (no wrapping layer).
  const own = path && deps.runtime.openFile ? await deps.runtime.openFile(path) : null;
  if (own) return send(handleSource(own, start, last), status, out, deps, watcher);
  // Bun: a Blob it sends with sendfile; it holds no handle while the client waits.
  const native = path ? await deps.runtime.fileBody?.(path, start, last, src.size) : null;
  if (native) return new Response(native, { status, headers: out });
  const handle = await deps.blobs.open(src.digest);
  // Gone between the lookup and the open (evicted, collected): the format renders its own 404.
  if (!handle) throw new RegistryError('not_found', `blob ${src.digest.value} is no longer in the store`, { code: 'BLOB_UNKNOWN' });
  return send(handleSource(handle, start, last), status, out, deps, watcher);
}

/**
 * If-Range (RFC 9110 §13.1.5): a Range applies only while the representation is the one the client
 * has part of: its entity tag (strong comparison) or its exact Last-Modified date. Anything else,
 * or no validator of ours to compare with, is answered whole.
 */
function ifRangeHolds(req: Request, headers: Record<string, string>): boolean {
  const cond = req.headers.get('if-range')?.trim();
  if (!cond) return true;
  if (cond.startsWith('"') || cond.startsWith('W/')) return !cond.startsWith('W/') && headers['etag'] !== undefined && !headers['etag'].startsWith('W/') && cond === headers['etag'];
  const lm = headers['last-modified'];
  const a = Date.parse(cond);
  return lm !== undefined && !Number.isNaN(a) && a === Date.parse(lm);
}

/** A body source sent the runtime's own way where it has one (Node: into the socket), else as a watched Web stream. */
async function send(src: ChunkSource, status: number, headers: Record<string, string>, deps: ServeDeps, watcher: Watcher): Promise<Response> {
  const sent = deps.runtime.sendStream ? await deps.runtime.sendStream(deps.env, src, status, headers, watcher) : null;
  return sent ?? new Response(watchedStream(src, watcher), { status, headers });
}
