// The reference for small requests (issue 13): each runtime's minimal Web-standard fetch handler,
// answering every request with a manifest-sized JSON body, served the way binaryrepo is served on
// that runtime (Bun.serve, Deno.serve, @hono/node-server), or with `--raw` on Node by node:http
// directly. Prints `{"port": n}` once listening. Run by bench/handler-floor.ts.
// `--variant=async`: the handler awaits once and reads a request header (what any real handler does);
// `--variant=hono`: that handler behind a Hono app with one middleware around it; `--variant=spinN`:
// the awaiting handler busy for N µs of CPU per request (what N µs of handler work costs the whole
// server, once its batching and the client's wake-ups change). The steps from the minimal handler
// to binaryrepo, measured in the same run, show where a small request's time goes.
// `--file=PATH`: every request answered with that file, sent the runtime's own way (Bun.file,
// Deno.open's readable, a node:fs read stream piped into node:http): the large-blob rows' runtime ceiling.
const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', pad: 'x'.repeat(400) });
const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': `sha256:${'0'.repeat(64)}` };
const answer = (req: Request): Response => new Response(req.method === 'HEAD' ? null : body, { headers: { ...headers, 'content-length': String(body.length) } });
const runtimeArgs = (globalThis as { Deno?: { args: string[] } }).Deno?.args ?? (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
const variant = runtimeArgs.find((a) => a.startsWith('--variant='))?.slice(10);
const awaited = async (req: Request): Promise<Response> => {
  await Promise.resolve();
  req.headers.get('via');
  return answer(req);
};
const spinUs = variant?.startsWith('spin') ? Number(variant.slice(4)) : 0;
const spinning = async (req: Request): Promise<Response> => {
  const until = performance.now() + spinUs / 1000;
  while (performance.now() < until);
  return awaited(req);
};
let handler: (req: Request) => Response | Promise<Response> = variant === 'async' ? awaited : spinUs > 0 ? spinning : answer;
if (variant === 'hono') {
  const { Hono } = await import('hono');
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    void c.res.status;
  });
  app.all('*', (c) => awaited(c.req.raw));
  handler = (req) => app.fetch(req);
}
const announce = (port: number): void => console.log(JSON.stringify({ port }));
const file = runtimeArgs.find((a) => a.startsWith('--file='))?.slice(7);

type BunServe = (o: { hostname: string; port: number; fetch: (r: Request) => Response | Promise<Response> }) => { port: number };
type DenoServe = (o: { hostname: string; port: number; onListen: (a: { port: number }) => void }, h: (r: Request) => Response | Promise<Response>) => unknown;
type DenoOpen = (p: string) => Promise<{ readable: ReadableStream<Uint8Array>; stat(): Promise<{ size: number }> }>;
const g = globalThis as unknown as { Bun?: { serve: BunServe; file(p: string): Blob }; Deno?: { serve: DenoServe; open: DenoOpen } };
if (file && g.Bun) {
  const bun = g.Bun;
  announce(bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(bun.file(file)) }).port);
} else if (file && g.Deno) {
  const deno = g.Deno;
  deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => announce(port) }, async () => {
    const f = await deno.open(file);
    return new Response(f.readable, { headers: { 'content-length': String((await f.stat()).size) } });
  });
} else if (file) {
  const [{ createServer }, { createReadStream, statSync }] = await Promise.all([import('node:http'), import('node:fs')]);
  const size = statSync(file).size;
  const s = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(size) });
    createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
  });
  s.listen(0, '127.0.0.1', () => {
    const a = s.address();
    announce(typeof a === 'object' && a ? a.port : 0);
  });
} else if (g.Bun) announce(g.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler }).port);
else if (g.Deno) g.Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => announce(port) }, handler);
else if (process.argv.includes('--raw')) {
  const { createServer } = await import('node:http');
  const s = createServer((req, res) => {
    res.writeHead(200, { ...headers, 'content-length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  s.listen(0, '127.0.0.1', () => {
    const a = s.address();
    announce(typeof a === 'object' && a ? a.port : 0);
  });
} else {
  const { serve } = await import('@hono/node-server');
  serve({ fetch: handler, hostname: '127.0.0.1', port: 0 }, (info) => announce(info.port));
}
