import { notModified } from '../../http/conditional.ts';
import { RenderedCache, acceptsGzip, renderedBody } from '../../http/rendered.ts';
import { servedCounter } from '../../http/serve-blob.ts';
import type { RequestContext } from '../format.ts';
import { withBase } from './packument.ts';
import type { PackumentAnswer } from './packument.ts';

/** Packuments as sent, by (content, representation, base): a popular package is rendered and compressed once. */
const rendered = new RenderedCache(4000, 256 << 20);

const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json';

/** npm's content negotiation: the abbreviated document for clients that ask for it first. */
export function wantsAbbreviated(accept: string | null): boolean {
  if (!accept) return false;
  const parts = accept.split(',').map((p) => {
    const [type = '', ...params] = p.trim().split(';');
    const q = params.map((x) => /^\s*q=([\d.]+)\s*$/.exec(x)?.[1]).find((x) => x !== undefined);
    return { type: type.trim().toLowerCase(), q: q === undefined ? 1 : Number(q) };
  });
  const abbr = parts.find((p) => p.type === ABBREVIATED_TYPE);
  if (!abbr || abbr.q <= 0) return false;
  const full = Math.max(0, ...parts.filter((p) => p.type === 'application/json').map((p) => p.q));
  return abbr.q >= full;
}

/** A packument answer as a response: negotiated representation, validators, the base put in, gzip where accepted. */
export async function packumentResponse(req: Request, a: PackumentAnswer, base: string, ctx: RequestContext): Promise<Response> {
  const abbr = wantsAbbreviated(req.headers.get('accept'));
  const { core: s, info } = ctx;
  info.cache = a.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: a.cache });
  const headers: Record<string, string> = {
    'content-type': abbr ? ABBREVIATED_TYPE : 'application/json',
    etag: `"${a.etag}-${abbr ? 'a' : 'f'}"`,
    vary: 'Accept, Accept-Encoding',
    'cache-control': 'no-cache',
    'x-cache': a.cache,
  };
  if (a.modified && !Number.isNaN(Date.parse(a.modified))) headers['last-modified'] = new Date(a.modified).toUTCString();
  if (notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  const gz = acceptsGzip(req.headers.get('accept-encoding'));
  const r = await rendered.get(`${a.etag}|${abbr ? 'a' : 'f'}|${base}`, gz, async () => withBase(await (abbr ? a.abbreviated() : a.full()), base));
  const body = renderedBody(r, gz, headers);
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(body.byteLength, a.cache);
  return new Response(body, { headers });
}
