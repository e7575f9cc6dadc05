import type { ServerMetrics } from '../../metrics/registry.ts';
import { handleStream } from '../../http/file-stream.ts';
import { parseRange } from '../../http/range.ts';
import type { Action } from '../../auth/access.ts';
import type { Logger } from '../../log.ts';
import type { RequestInfo, RuntimeCaps } from '../../runtime.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { BlobResult } from './remote.ts';
import type { DockerRoute } from './reference.ts';
import { isValidName, parseDockerPath, parseReference } from './reference.ts';
import type { DockerReader, DockerRepo } from './repo.ts';
import { API_VERSION_HEADER, errorResponse, ociResponse } from './responses.ts';
import { handleCatalog, handleReferrers, handleTags } from './router-list.ts';
import { handleManifestWrite, handleUpload, handleBlobDelete } from './router-push.ts';

/** Why a request may not go on; rendered as 401 (with the challenge) or 403. */
export interface Refusal {
  status: 401 | 403;
  message: string;
  challenge?: string;
}

export interface DockerRouterDeps {
  repo: DockerRepo;
  blobs: BlobStore;
  runtime: RuntimeCaps;
  metrics: ServerMetrics;
  log: Logger;
  /** The path the client used up to and including `/v2`, for Location and Link headers. */
  base: string;
  /** null = allowed. `image` undefined = the repo as a whole (the /v2/ check, the catalog). */
  authorize(image: string | undefined, action: Action): Promise<Refusal | null>;
  /** A mount's `from` (as the client named it) → the repo and image, when the caller may read it. */
  mountSource(from: string): Promise<{ repo: DockerReader; image: string } | null>;
  /** A mount without `from`: whether a repo the caller may read holds the blob (content discovery). */
  discoverBlob(digest: Digest): Promise<boolean>;
  /** Request bodies that stall this long fail (pushes). */
  bodyIdleMs: number;
  /** Every streamed blob body goes through this: counted per client, cut off when never read. */
  download(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array>;
  /** Tells the webhooks: a manifest pushed, pulled (GET) or deleted in `repo`. */
  notify(action: 'push' | 'pull' | 'delete', repo: string, image: string, target: { mediaType?: string; size?: number; digest?: string; tag?: string }): void;
}

/**
 * The Registry v2 / OCI distribution API of one repo. `sub` is the path after `/v2`. Only the
 * router files and responses.ts know statuses and headers; the repo classes return domain values.
 */
export async function handleDocker(req: Request, sub: string, d: DockerRouterDeps, info: RequestInfo): Promise<Response> {
  const head = req.method === 'HEAD';
  try {
    return await route(req, sub, d, info, head);
  } catch (e) {
    return errorResponse(e, info, d.log, head);
  }
}

/** The permission each endpoint and method needs; null = method not allowed there. */
function actionOf(r: DockerRoute, method: string): Action | null {
  const read = method === 'GET' || method === 'HEAD';
  switch (r.kind) {
    case 'manifest':
      return read ? 'pull' : method === 'PUT' ? 'push' : method === 'DELETE' ? 'delete' : null;
    case 'blob':
      return read ? 'pull' : method === 'DELETE' ? 'delete' : null;
    case 'upload':
      if (r.uuid === undefined) return method === 'POST' ? 'push' : null;
      return ['GET', 'PATCH', 'PUT', 'DELETE'].includes(method) ? 'push' : null;
    default:
      return read ? 'pull' : null;
  }
}

const ALLOW: Record<string, string> = {
  manifest: 'GET, HEAD, PUT, DELETE',
  blob: 'GET, HEAD, DELETE',
  upload: 'POST, GET, PATCH, PUT, DELETE',
};

function denied(d: Refusal, head: boolean): Response {
  const extra: Record<string, string> = d.challenge ? { 'www-authenticate': d.challenge } : {};
  return ociResponse(d.status, d.status === 401 ? 'UNAUTHORIZED' : 'DENIED', d.message, head, extra);
}

async function route(req: Request, sub: string, d: DockerRouterDeps, info: RequestInfo, head: boolean): Promise<Response> {
  const r = parseDockerPath(sub);
  if (r.kind === 'unknown') return ociResponse(404, 'NAME_UNKNOWN', 'no such API endpoint', head);
  if (r.kind === 'base' || r.kind === 'catalog') {
    if (req.method !== 'GET' && !head) return ociResponse(405, 'UNSUPPORTED', `${req.method} is not allowed here`, head, { allow: 'GET, HEAD' });
    const denial = await d.authorize(undefined, 'pull');
    if (denial) return denied(denial, head);
    if (r.kind === 'catalog') return handleCatalog(req, d, head);
    return new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } });
  }
  if (!isValidName(r.name)) return ociResponse(400, 'NAME_INVALID', 'invalid repository name', head);
  const action = actionOf(r, req.method);
  if (!action) {
    return ociResponse(405, 'UNSUPPORTED', `${req.method} is not allowed here`, head, { allow: ALLOW[r.kind] ?? 'GET, HEAD' });
  }
  const denial = await d.authorize(r.name, action);
  if (denial) return denied(denial, head);
  if (action !== 'pull' || r.kind === 'upload') {
    if (!d.repo.writer) {
      return ociResponse(405, 'UNSUPPORTED', `repository ${d.repo.name} is ${d.repo.type === 'remote' ? 'a remote (read-only) repository' : 'virtual without deployTo'}`, head, {
        allow: 'GET, HEAD',
      });
    }
    if (r.kind === 'upload') return handleUpload(req, r.name, r.uuid, d, d.repo.writer);
    if (r.kind === 'manifest') return handleManifestWrite(req, r.name, r.ref, d, d.repo.writer);
    if (r.kind === 'blob') return handleBlobDelete(r.name, r.digest, d.repo.writer);
  }
  if (r.kind === 'tags') return handleTags(req, r.name, d, head);
  if (r.kind === 'referrers') return handleReferrers(req, r.name, r.digest, d, head);
  if (r.kind === 'manifest') {
    const ref = parseReference(r.ref);
    if (!ref.ok) {
      // No manifest can exist under a name that is not a valid tag: the spec wants 404 for a read.
      if (ref.reason === 'invalid_tag') return ociResponse(404, 'MANIFEST_UNKNOWN', 'manifest unknown: not a valid tag or digest', head);
      return ociResponse(400, 'DIGEST_INVALID', ref.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest', head);
    }
    const m = await d.repo.manifest(r.name, ref.ref, req.headers.get('via') ?? undefined);
    note(d, info, m.cache, m.bytes.byteLength);
    if (!head) {
      const tag = ref.ref.kind === 'tag' ? { tag: ref.ref.tag } : {};
      d.notify('pull', d.repo.name, r.name, { mediaType: m.mediaType, size: m.bytes.byteLength, digest: m.digest, ...tag });
    }
    return new Response(head ? null : m.bytes, {
      headers: {
        ...API_VERSION_HEADER,
        'content-type': m.mediaType,
        'content-length': String(m.bytes.byteLength),
        'docker-content-digest': m.digest,
        etag: `"${m.digest}"`,
        'x-cache': m.cache,
      },
    });
  }
  const dg = parseDigest(r.kind === 'blob' ? r.digest : '');
  if (!dg.ok) return ociResponse(400, 'DIGEST_INVALID', dg.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest', head);
  const b = await d.repo.blob(r.name, dg.digest, head, req.headers.get('via') ?? undefined);
  return blobResponse(req, b, d, info, head);
}

function note(d: DockerRouterDeps, info: RequestInfo, cache: string, bytes: number | undefined): void {
  info.cache = cache;
  d.metrics.cache.inc({ repo: info.repo ?? '', result: cache });
  const fromStore = cache === 'HIT' || cache === 'STALE' || cache === 'LOCAL';
  if (!fromStore) info.upstreamStatus ??= 200;
  if (bytes !== undefined) d.metrics.bytesServed.inc({ repo: info.repo ?? '', source: fromStore ? 'cache' : 'upstream' }, bytes);
}

async function blobResponse(req: Request, b: BlobResult, d: DockerRouterDeps, info: RequestInfo, head: boolean): Promise<Response> {
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    'content-type': 'application/octet-stream',
    'docker-content-digest': b.digest.value,
    'accept-ranges': 'bytes',
    etag: `"${b.digest.value}"`,
    'x-cache': b.cache,
  };
  const size = b.size;
  let start = 0;
  let end = size === undefined ? undefined : size - 1;
  let status = 200;
  if (size !== undefined && b.source !== 'upstream-head') {
    const range = parseRange(req.headers.get('range'), size);
    if (range.kind === 'unsatisfiable') {
      info.cache = b.cache;
      return ociResponse(416, 'RANGE_INVALID', 'requested range not satisfiable', head, { 'content-range': `bytes */${size}` });
    }
    if (range.kind === 'ok') {
      ({ start, end } = range);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
  }
  if (end !== undefined) headers['content-length'] = String(end - start + 1);
  note(d, info, b.cache, head || end === undefined ? undefined : end - start + 1);
  if (head || b.source === 'upstream-head') return new Response(null, { status, headers });
  if (b.source === 'fill') {
    return new Response(d.download(b.open(start, end === undefined ? undefined : end + 1)), { status, headers });
  }
  const last = end ?? 0;
  const path = d.blobs.localPath(b.digest);
  const native = path && b.size > 0 ? await d.runtime.fileBody?.(path, start, last, b.size) : null;
  // A native stream (Deno) is guarded like ours; a Blob (Bun's sendfile) holds no handle while it waits.
  if (native) return new Response(native instanceof ReadableStream ? d.download(native as ReadableStream<Uint8Array>) : native, { status, headers });
  if (b.size === 0) return new Response(new Uint8Array(0), { status, headers });
  const handle = await d.blobs.open(b.digest);
  if (!handle) return ociResponse(404, 'BLOB_UNKNOWN', 'blob unknown', head);
  return new Response(d.download(handleStream(handle, start, last)), { status, headers });
}

