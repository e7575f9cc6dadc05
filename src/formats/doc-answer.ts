import type { CacheStatus } from '../cache/status.ts';
import { notModified } from '../http/conditional.ts';
import { RenderedCache, acceptsGzip, renderedBody } from '../http/rendered.ts';
import { servedCounter } from '../http/serve-blob.ts';
import type { RequestContext } from './format.ts';

/** A mutable document as a format answers it (a Cargo index file): its validators, how it was got, its bytes. */
export interface DocAnswer {
  /** Names the content: the ETag (quoted here) and the rendered-cache key. */
  etag: string;
  modified: number | undefined;
  cache: CacheStatus;
  type: string;
  bytes: () => Promise<Uint8Array>;
}

/**
 * The kit's answer for a mutable document: counted by cache result, ETag and Last-Modified with
 * 304 on a match (clients revalidate every use), HEAD, gzip once per content where accepted, and
 * `no-cache` so nothing between us and the client keeps a copy past a change.
 */
export async function docAnswer(req: Request, ctx: RequestContext, a: DocAnswer, rendered: RenderedCache): Promise<Response> {
  const { core: s, info } = ctx;
  info.cache = a.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: a.cache });
  const headers: Record<string, string> = { 'content-type': a.type, etag: `"${a.etag}"`, vary: 'Accept-Encoding', 'cache-control': 'no-cache', 'x-cache': a.cache };
  if (a.modified) headers['last-modified'] = new Date(a.modified).toUTCString();
  if (notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  const gz = acceptsGzip(req.headers.get('accept-encoding'));
  const body = renderedBody(await rendered.get(a.etag, gz, a.bytes), gz, headers);
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(body.byteLength, a.cache);
  return new Response(body, { headers });
}
