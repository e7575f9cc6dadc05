import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { FetchFn } from '../src/upstream/auth.ts';
import { withNativeBody } from '../src/util/native-body.ts';

// Pooled connections per upstream host, as undici keeps them.
const agents = { http: new HttpAgent({ keepAlive: true, maxSockets: 256 }), https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }) };
const NO_BODY = new Set([101, 103, 204, 205, 304]);

function decoded(msg: IncomingMessage): Readable {
  const enc = (msg.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = enc === 'gzip' || enc === 'x-gzip' ? createGunzip() : enc === 'deflate' ? createInflate() : enc === 'br' ? createBrotliDecompress() : null;
  if (!decoder) return msg;
  msg.on('error', (e) => decoder.destroy(e));
  return msg.pipe(decoder);
}

function toResponse(msg: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (let i = 0; i + 1 < msg.rawHeaders.length; i += 2) headers.append(msg.rawHeaders[i] as string, msg.rawHeaders[i + 1] as string);
  const status = msg.statusCode ?? 502;
  const init = { status, statusText: msg.statusMessage ?? '', headers };
  if (method === 'HEAD' || NO_BODY.has(status)) {
    msg.resume();
    return new Response(null, init);
  }
  // The client asks for identity; an upstream that compresses anyway is decoded, as fetch would.
  const body = decoded(msg);
  const it = body[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
  const destroy = (): void => {
    body.destroy();
    msg.destroy();
  };
  // The Web stream and the native body share one iterator: whoever reads, reads the socket once.
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value);
      },
      // destroy(), not it.return(): return() would wait for a read in progress, forever on a stalled upstream.
      cancel: destroy,
    },
    { highWaterMark: 0 },
  );
  return withNativeBody(new Response(stream, init), { [Symbol.asyncIterator]: () => it, cancel: destroy });
}

/**
 * The upstream client's fetch on Node: node:http(s) instead of undici, for the requests that
 * client makes (no body, `redirect: 'manual'`: it follows redirects itself, so credentials never
 * reach a CDN). The body reaches fills as the socket's own chunks (`bodyOf`), which undici's Web
 * stream delivered 2-4× slower on loopback. Anything else (a body, redirects to follow) goes to the
 * global fetch unchanged.
 */
export const nodeFetch: FetchFn = (input, init = {}) => {
  const url = typeof input === 'string' || input instanceof URL ? new URL(String(input)) : null;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || init.redirect !== 'manual' || (init.body !== undefined && init.body !== null)) {
    return fetch(input, init);
  }
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const tls = url.protocol === 'https:';
  return new Promise<Response>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, { method, headers, agent: tls ? agents.https : agents.http, ...(init.signal ? { signal: init.signal } : {}) }, (msg) => resolve(toResponse(msg, method)));
    req.on('error', reject);
    req.end();
  });
};
