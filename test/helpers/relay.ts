import { Hono } from 'hono';
import { listenLoopback } from './listen.ts';

/**
 * A counting (and optionally link-shaping) HTTP relay in front of a real upstream: tests and benches
 * count what the upstream was asked for, and can make loopback look like the internet (latency per
 * response, a bandwidth cap per response body).
 */
export interface RelayOptions {
  latencyMs?: number;
  /** Bytes per second per response body; 0 = unlimited. */
  bytesPerSecond?: number;
  /** Called once the upstream answered, before the answer is relayed (a test changes the upstream between two requests). */
  onResponse?: (method: string, path: string, status: number) => Promise<void> | void;
  /** Listen on this port (default: any free one). */
  port?: number;
  /** An answer in place of the upstream's (a test's upstream that rate-limits): the status and headers, or undefined to relay. */
  answer?: (method: string, path: string) => { status: number; headers?: Record<string, string> } | undefined;
}

export interface Relay {
  url: string;
  requests: Map<string, number>;
  bytes: { value: number };
  /** Every Authorization header the upstream was sent (credentials must never leak through). */
  authorizations: string[];
  count(method: string, part: string): number;
  reset(): void;
  close(): Promise<void>;
}

const HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'upgrade', 'proxy-connection', 'host'];

export async function startRelay(target: string, opts: RelayOptions = {}): Promise<Relay> {
  const requests = new Map<string, number>();
  const bytes = { value: 0 };
  const authorizations: string[] = [];
  const app = new Hono();
  app.all('*', async (c) => {
    const u = new URL(c.req.url);
    const key = `${c.req.method} ${u.pathname}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    const authz = c.req.header('authorization');
    if (authz) authorizations.push(authz);
    const canned = opts.answer?.(c.req.method, u.pathname);
    if (canned) return new Response(`relay answers ${canned.status}\n`, { status: canned.status, headers: canned.headers ?? {} });
    const headers = new Headers(c.req.raw.headers);
    for (const h of HOP) headers.delete(h);
    // fetch decodes a compressed answer: ask for identity, so the bytes relayed are the ones sent.
    headers.set('accept-encoding', 'identity');
    const method = c.req.method;
    const res = await fetch(`${target}${u.pathname}${u.search}`, {
      method,
      headers,
      redirect: 'manual',
      ...(method === 'GET' || method === 'HEAD' ? {} : { body: c.req.raw.body, duplex: 'half' }),
    } as RequestInit);
    if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
    await opts.onResponse?.(method, u.pathname, res.status);
    const out = new Headers(res.headers);
    for (const h of HOP) out.delete(h);
    if (!res.body || method === 'HEAD') return new Response(null, { status: res.status, headers: out });
    const rate = opts.bytesPerSecond ?? 0;
    const t0 = performance.now();
    let sent = 0;
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        async transform(chunk, ctl) {
          bytes.value += chunk.byteLength;
          sent += chunk.byteLength;
          if (rate > 0) {
            const due = (sent / rate) * 1000 - (performance.now() - t0);
            if (due > 1) await new Promise((r) => setTimeout(r, due));
          }
          ctl.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, headers: out });
  });
  const http = await listenLoopback(app.fetch, opts.port ?? 0);
  return {
    url: http.url,
    requests,
    bytes,
    authorizations,
    count: (method, part) => [...requests].filter(([k]) => k.startsWith(`${method} `) && k.includes(part)).reduce((a, [, n]) => a + n, 0),
    reset: () => {
      requests.clear();
      bytes.value = 0;
      authorizations.length = 0;
    },
    close: http.close,
  };
}
