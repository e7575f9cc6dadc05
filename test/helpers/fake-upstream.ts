import { Hono } from 'hono';
import { listenLoopback } from './listen.ts';
import { sha256 } from './images.ts';

/**
 * A fault-injecting registry written as a small Hono app with call counters. Each blob or manifest
 * has a behaviour the test sets; everything else answers like a registry would.
 */
export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'wrong-bytes' }
  | { kind: 'short' } // ends cleanly, chunked, with bytes missing
  | { kind: 'reset'; after: number } // connection dies after `after` bytes
  | { kind: 'status'; status: number; retryAfter?: string; body?: string; contentType?: string }
  | { kind: 'stall'; after: number } // sends `after` bytes, then nothing, forever
  | { kind: 'drip'; chunk: number; delayMs: number }
  | { kind: 'gate'; after: number; release: Promise<void> } // half now, rest when released
  | { kind: 'redirect'; location: string } // 302 elsewhere (a CDN)
  | { kind: 'then-ok'; first: Behaviour }; // `first` for the first request, then healthy (a recovered upstream)

export interface FakeUpstream {
  url: string;
  blobs: Map<string, Uint8Array>;
  manifests: Map<string, { bytes: Uint8Array; mediaType: string }>;
  behaviour: Map<string, Behaviour>;
  /** Subject digest → referrer descriptors; a registry without the API when empty. */
  referrers: Map<string, Array<Record<string, unknown>>>;
  calls: Map<string, number>;
  count(method: string, pathPart: string): number;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function body(bytes: Uint8Array, b: Behaviour): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async start(c) {
      if (b.kind === 'reset') {
        c.enqueue(bytes.slice(0, b.after));
        await sleep(20);
        c.error(new Error('injected reset'));
        return;
      }
      if (b.kind === 'stall' || b.kind === 'gate') {
        c.enqueue(bytes.slice(0, b.after));
        if (b.kind === 'stall') return; // never closes
        await b.release;
        c.enqueue(bytes.slice(b.after));
        c.close();
        return;
      }
      if (b.kind === 'drip') {
        for (let i = 0; i < bytes.byteLength; i += b.chunk) {
          c.enqueue(bytes.slice(i, i + b.chunk));
          await sleep(b.delayMs);
        }
        c.close();
        return;
      }
      if (b.kind === 'short') c.enqueue(bytes.slice(0, Math.floor(bytes.byteLength / 2)));
      else if (b.kind === 'wrong-bytes') {
        const w = new Uint8Array(bytes); // a copy: Buffer#slice would share (and corrupt) the original
        w[0] = (w[0] ?? 0) ^ 0xff;
        c.enqueue(w);
      } else c.enqueue(bytes);
      c.close();
    },
  });
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const blobs = new Map<string, Uint8Array>();
  const manifests = new Map<string, { bytes: Uint8Array; mediaType: string }>();
  const behaviour = new Map<string, Behaviour>();
  const referrers = new Map<string, Array<Record<string, unknown>>>();
  const calls = new Map<string, number>();
  const app = new Hono();
  app.use('*', async (c, next) => {
    const key = `${c.req.method} ${new URL(c.req.url).pathname}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
    await next();
  });
  app.get('/v2/', (c) => c.json({}));
  // Faults for the lists: behaviour keys 'tags/list' and 'referrers'.
  app.get('/v2/:name{.+}/tags/list', (c) => {
    const b = behaviour.get('tags/list');
    if (b?.kind === 'status') return statusAnswer(b);
    const tags = [...manifests.keys()].filter((k) => !k.includes(':')).sort();
    if (tags.length === 0) return c.json({ errors: [{ code: 'NAME_UNKNOWN', message: 'unknown' }] }, 404);
    return c.json({ name: c.req.param('name'), tags });
  });
  app.get('/v2/:name{.+}/referrers/:digest', (c) => {
    const b = behaviour.get('referrers');
    if (b?.kind === 'status') return statusAnswer(b);
    const list = referrers.get(c.req.param('digest'));
    if (referrers.size === 0) return c.text('404 page not found', 404);
    return c.json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: list ?? [] }, 200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
  });
  app.on(['GET', 'HEAD'], '/v2/:name{.+}/manifests/:ref', (c) => {
    const ref = c.req.param('ref');
    const m = manifests.get(ref);
    const b = behaviour.get(ref) ?? { kind: 'ok' };
    if (b.kind === 'status') return statusAnswer(b);
    if (!m) return c.json({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] }, 404);
    const headers = { 'content-type': m.mediaType, 'docker-content-digest': sha256(m.bytes), 'content-length': String(m.bytes.byteLength) };
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    return new Response(b.kind === 'wrong-bytes' ? new TextEncoder().encode('{"not":"it"}') : m.bytes, {
      headers: b.kind === 'wrong-bytes' ? { 'content-type': m.mediaType } : headers,
    });
  });
  app.on(['GET', 'HEAD'], '/v2/:name{.+}/blobs/:digest', (c) => {
    const digest = c.req.param('digest');
    const bytes = blobs.get(digest);
    let b = behaviour.get(digest) ?? { kind: 'ok' };
    if (b.kind === 'then-ok' && c.req.method === 'GET') {
      behaviour.set(digest, { kind: 'ok' });
      b = b.first;
    }
    if (b.kind === 'status') return statusAnswer(b);
    if (b.kind === 'redirect') return new Response(null, { status: 302, headers: { location: b.location } });
    if (!bytes) return c.json({ errors: [{ code: 'BLOB_UNKNOWN', message: 'unknown' }] }, 404);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'docker-content-digest': digest };
    if (b.kind !== 'short') headers['content-length'] = String(bytes.byteLength);
    if (c.req.method === 'HEAD') return new Response(null, { headers });
    return new Response(body(bytes, b), { headers });
  });
  const http = await listenLoopback(app.fetch);
  return {
    url: http.url,
    blobs,
    manifests,
    behaviour,
    referrers,
    calls,
    count: (method, part) => [...calls].filter(([k]) => k.startsWith(`${method} `) && k.includes(part)).reduce((a, [, n]) => a + n, 0),
    close: http.close,
  };
}

function statusAnswer(b: Extract<Behaviour, { kind: 'status' }>): Response {
  const headers: Record<string, string> = { 'content-type': b.contentType ?? 'application/json' };
  if (b.retryAfter) headers['retry-after'] = b.retryAfter;
  return new Response(b.body ?? JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'injected' }] }), { status: b.status, headers });
}
