import { Lru } from '../../cache/lru.ts';
import { notModified } from '../../http/conditional.ts';
import { servedCounter } from '../../http/serve-blob.ts';
import type { RequestContext } from '../format.ts';
import { withBase } from './packument.ts';
import type { PackumentAnswer } from './packument.ts';

interface Rendered {
  bytes: Uint8Array;
  gzip?: Uint8Array;
}

/**
 * Packuments as sent: the stored representation with this base put in, and its gzip form, by
 * (content, representation, base). A popular package is rendered and compressed once, then every
 * request is a lookup: no parse, no deep clone, no compression per request.
 */
const rendered = new Lru<Rendered>(4000, 256 << 20, (r) => r.bytes.byteLength + (r.gzip?.byteLength ?? 0) + 256);

/** Renders in progress: twenty clients asking for a new document at once wait for one rendering. */
const pending = new Map<string, Promise<Rendered>>();

function once(key: string, fn: () => Promise<Rendered>): Promise<Rendered> {
  const hit = rendered.get(key.slice(0, key.lastIndexOf('|')));
  const gz = key.endsWith('|true');
  if (hit && (!gz || hit.gzip || hit.bytes.byteLength < GZIP_MIN)) return Promise.resolve(hit);
  let p = pending.get(key);
  if (!p) {
    p = fn().finally(() => pending.delete(key));
    pending.set(key, p);
  }
  return p;
}

async function gzipOf(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Below this, compression saves less than it costs. */
const GZIP_MIN = 1024;

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

const acceptsGzip = (v: string | null): boolean => (v ?? '').split(',').some((p) => /^\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*$)[\d.]+\s*)?$/i.test(p));

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
  const key = `${a.etag}|${abbr ? 'a' : 'f'}|${base}`;
  const gz = acceptsGzip(req.headers.get('accept-encoding'));
  const r = await once(`${key}|${gz}`, async () => {
    const r = rendered.get(key) ?? { bytes: withBase(await (abbr ? a.abbreviated() : a.full()), base) };
    if (gz && !r.gzip && r.bytes.byteLength >= GZIP_MIN) r.gzip = await gzipOf(r.bytes);
    rendered.set(key, r);
    return r;
  });
  let body = r.bytes;
  if (gz && r.gzip) {
    body = r.gzip;
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(body.byteLength);
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(body.byteLength, a.cache);
  return new Response(body, { headers });
}
