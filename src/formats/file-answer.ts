import { serveBlob, serveDeps } from '../http/serve-blob.ts';
import type { RequestContext } from './format.ts';
import type { CachedFile } from './remote-file.ts';

/**
 * A stored or in-flight immutable file as a response (npm tarballs, PyPI files): counted by cache
 * result, byte for byte with Range and HEAD, cacheable for good, the digest as ETag once stored.
 */
export function cachedFileAnswer(req: Request, f: CachedFile, ctx: RequestContext, type = 'application/octet-stream', extra: Record<string, string> = {}): Promise<Response> {
  const { core: s, info } = ctx;
  info.cache = f.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: f.cache });
  const headers: Record<string, string> = Object.assign({ 'content-type': type, 'x-cache': f.cache, 'cache-control': 'public, max-age=31536000, immutable' }, extra);
  const deps = serveDeps(s, info);
  if (f.kind === 'stream') return serveBlob(req, { kind: 'stream', size: f.size, open: f.open }, headers, deps);
  headers['etag'] = `"${f.digest.hex}"`;
  // A stored file's Last-Modified lets a client resume with If-Range (apt does, by date). Rounded up
  // to the next second: a partial the client kept from a download cut before this copy was stored
  // (bytes that failed verification) is dated earlier, so it is answered whole, never resumed.
  if (f.modified !== undefined) headers['last-modified'] = new Date(Math.ceil(f.modified / 1000) * 1000).toUTCString();
  return serveBlob(req, { kind: 'store', digest: f.digest, size: f.size }, headers, deps);
}
