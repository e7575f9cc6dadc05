import { Lru } from '../util/lru.ts';

/** A document as sent: its bytes and, once asked for, their gzip form. */
export interface Rendered {
  bytes: Uint8Array;
  gzip?: Uint8Array;
}

/** Below this, compression saves less than it costs. */
const GZIP_MIN = 1024;

async function gzipOf(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Whether an Accept-Encoding takes gzip (q=0 refuses it). */
export const acceptsGzip = (v: string | null): boolean => (v ?? '').split(',').some((p) => /^\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*$)[\d.]+\s*)?$/i.test(p));

/**
 * Documents rendered once per content and compressed once, then every request is a lookup: no
 * parse, no clone, no compression per request (Verdaccio deep-clones a packument per request; devpi
 * renders a simple page per request). Keys name the content (its ETag) and the representation;
 * concurrent first requests for one key wait for one rendering.
 */
export class RenderedCache {
  private readonly lru: Lru<Rendered>;
  private readonly pending = new Map<string, Promise<Rendered>>();

  constructor(entries: number, bytes: number) {
    this.lru = new Lru<Rendered>(entries, bytes, (r) => r.bytes.byteLength + (r.gzip?.byteLength ?? 0) + 256);
  }

  get(key: string, gzip: boolean, render: () => Promise<Uint8Array>): Promise<Rendered> {
    const hit = this.lru.get(key);
    if (hit && (!gzip || hit.gzip || hit.bytes.byteLength < GZIP_MIN)) return Promise.resolve(hit);
    const pkey = `${key}|${gzip}`;
    let p = this.pending.get(pkey);
    if (!p) {
      p = (async () => {
        const r = this.lru.get(key) ?? { bytes: await render() };
        if (gzip && !r.gzip && r.bytes.byteLength >= GZIP_MIN) r.gzip = await gzipOf(r.bytes);
        this.lru.set(key, r);
        return r;
      })().finally(() => this.pending.delete(pkey));
      this.pending.set(pkey, p);
    }
    return p;
  }
}

/** The body to send for a rendered document: gzip when accepted and worth it (the headers say which). */
export function renderedBody(r: Rendered, gzip: boolean, headers: Record<string, string>): Uint8Array {
  const body = gzip && r.gzip ? r.gzip : r.bytes;
  if (body === r.gzip) headers['content-encoding'] = 'gzip';
  headers['content-length'] = String(body.byteLength);
  return body;
}
