import type { ServerMetrics } from '../../metrics/registry.ts';
import { handleStream } from '../../http/file-stream.ts';
import { parseRange } from '../../http/range.ts';
import type { Logger } from '../../log.ts';
import type { RequestInfo, RuntimeCaps } from '../../runtime.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { BlobResult, DockerRemote } from './remote.ts';
import { isValidName, parseDockerPath, parseReference } from './reference.ts';
import { API_VERSION_HEADER, errorResponse, ociResponse } from './responses.ts';

export interface DockerRouterDeps {
  remote: DockerRemote;
  blobs: BlobStore;
  runtime: RuntimeCaps;
  metrics: ServerMetrics;
  log: Logger;
}

/**
 * The Registry v2 / OCI distribution API of one repo. `sub` is the path after `/v2`. Only this
 * file and responses.ts know statuses and headers; the repo classes return domain values.
 */
export async function handleDocker(req: Request, sub: string, d: DockerRouterDeps, info: RequestInfo): Promise<Response> {
  const head = req.method === 'HEAD';
  try {
    return await route(req, sub, d, info, head);
  } catch (e) {
    return errorResponse(e, info, d.log, head);
  }
}

async function route(req: Request, sub: string, d: DockerRouterDeps, info: RequestInfo, head: boolean): Promise<Response> {
  const r = parseDockerPath(sub);
  const readOnly = req.method === 'GET' || head;
  if (r.kind === 'base') return new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } });
  if (r.kind === 'unknown') return ociResponse(404, 'NAME_UNKNOWN', 'no such API endpoint', head);
  if (r.kind === 'catalog') return ociResponse(405, 'UNSUPPORTED', 'a remote repository has no catalog', head);
  if (!isValidName(r.name)) return ociResponse(400, 'NAME_INVALID', 'invalid repository name', head);
  if (r.kind === 'upload') return ociResponse(405, 'UNSUPPORTED', 'a remote repository does not accept pushes', head);
  if (r.kind === 'referrers') return ociResponse(404, 'UNSUPPORTED', 'the referrers API is not served by remote repositories', head);
  if (r.kind === 'tags') return ociResponse(405, 'UNSUPPORTED', 'tag listing is not served by remote repositories yet', head);
  if (!readOnly) {
    return ociResponse(405, 'UNSUPPORTED', `${req.method} is not supported on a remote repository`, head, { allow: 'GET, HEAD' });
  }
  if (r.kind === 'manifest') {
    const ref = parseReference(r.ref);
    if (!ref.ok) {
      if (ref.reason === 'invalid_tag') return ociResponse(400, 'TAG_INVALID', 'invalid tag', head);
      return ociResponse(400, 'DIGEST_INVALID', ref.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest', head);
    }
    const m = await d.remote.manifest(r.name, ref.ref);
    note(d, info, m.cache, m.bytes.byteLength);
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
  const dg = parseDigest(r.digest);
  if (!dg.ok) return ociResponse(400, 'DIGEST_INVALID', dg.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest', head);
  const b = await d.remote.blob(r.name, dg.digest, head);
  return blobResponse(req, b, d, info, head);
}

function note(d: DockerRouterDeps, info: RequestInfo, cache: string, bytes: number | undefined): void {
  info.cache = cache;
  d.metrics.cache.inc({ repo: info.repo ?? '', result: cache });
  if (cache !== 'HIT' && cache !== 'STALE') info.upstreamStatus ??= 200;
  if (bytes !== undefined) d.metrics.bytesServed.inc({ repo: info.repo ?? '', source: cache === 'HIT' || cache === 'STALE' ? 'cache' : 'upstream' }, bytes);
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
    return new Response(b.fill.reader(start, end === undefined ? undefined : end + 1), { status, headers });
  }
  const last = end ?? 0;
  const path = d.blobs.localPath(b.digest);
  const native = path && b.size > 0 ? await d.runtime.fileBody?.(path, start, last, b.size) : null;
  if (native) return new Response(native, { status, headers });
  if (b.size === 0) return new Response(new Uint8Array(0), { status, headers });
  const handle = await d.blobs.open(b.digest);
  if (!handle) return ociResponse(404, 'BLOB_UNKNOWN', 'blob unknown', head);
  return new Response(handleStream(handle, start, last), { status, headers });
}
