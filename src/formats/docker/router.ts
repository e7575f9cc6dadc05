import { serveBlob } from '../../http/serve-blob.ts';
import type { Action } from '../../auth/access.ts';
import type { RequestInfo } from '../../http/runtime.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { BlobResult } from './results.ts';
import type { DockerRoute } from './reference.ts';
import { isValidName, parseDockerPath, parseReference } from './reference.ts';
import { API_VERSION_HEADER, errorResponse, ociResponse } from './responses.ts';
import { handleCatalog, handleReferrers, handleTags } from './router-list.ts';
import { handleManifestWrite, handleUpload, handleBlobDelete } from './router-push.ts';

export type { DockerRouterDeps, Refusal } from './router-deps.ts';
import type { DockerRouterDeps, Refusal } from './router-deps.ts';
import { notModified } from '../../http/conditional.ts';

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
  return ociResponse(d.status, d.status === 401 ? 'UNAUTHORIZED' : d.status === 404 ? 'NAME_UNKNOWN' : 'DENIED', d.message, head, extra);
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
    const etag = `"${m.digest}"`;
    // A client revalidating a tag with the digest it holds (If-None-Match) gets 304 and no body.
    if (notModified(req, { etag })) {
      note(d, info, m.cache, undefined);
      return new Response(null, { status: 304, headers: { ...API_VERSION_HEADER, 'docker-content-digest': m.digest, etag, 'x-cache': m.cache } });
    }
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
        etag,
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
  if (bytes !== undefined) d.metrics.bytesServed.inc({ repo: info.repo ?? '', format: 'docker', source: fromStore ? 'cache' : 'upstream' }, bytes);
}

async function blobResponse(req: Request, b: BlobResult, d: DockerRouterDeps, info: RequestInfo, head: boolean): Promise<Response> {
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    'content-type': 'application/octet-stream',
    'docker-content-digest': b.digest.value,
    etag: `"${b.digest.value}"`,
    'x-cache': b.cache,
  };
  if (b.source === 'upstream-head') {
    note(d, info, b.cache, undefined);
    headers['accept-ranges'] = 'bytes';
    if (b.size !== undefined) headers['content-length'] = String(b.size);
    return new Response(null, { headers });
  }
  const src = b.source === 'fill' ? { kind: 'stream' as const, size: b.size, open: b.open } : { kind: 'store' as const, digest: b.digest, size: b.size };
  const res = await serveBlob(req, src, headers, d, {
    unsatisfiable: (size) => {
      info.cache = b.cache;
      return ociResponse(416, 'RANGE_INVALID', 'requested range not satisfiable', head, { 'content-range': `bytes */${size}` });
    },
  });
  // Bytes are counted by serveBlob, as for every format.
  if (res.status !== 416) note(d, info, b.cache, undefined);
  return res;
}
