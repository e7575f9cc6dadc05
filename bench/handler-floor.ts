// Small requests against their floor (issue 13, in make bench): warm manifest HEAD and GET by tag
// and blob HEAD on binaryrepo, beside each runtime's minimal fetch handler (bench/minimal-server.ts)
// measured with the same tools in the same run; the target is binaryrepo ≥ 50% of that handler.
// `node --import tsx bench/handler-floor.ts [--quick] [--runtimes=node,bun,deno]`
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { makeImage, pushImage } from '../test/helpers/images.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import type { RuntimeName } from '../test/helpers/process-server.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { startMinimal } from './minimal.ts';
import { wrk } from './small.ts';
import type { SmallRow } from './small.ts';

const quick = process.argv.includes('--quick');
const runtimes = (process.argv.find((a) => a.startsWith('--runtimes='))?.slice(11).split(',') ?? ['node', 'bun', 'deno']) as RuntimeName[];
const seconds = quick ? 2 : 5;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const work = await tempDir('bench-floor-');

const img = await makeImage({ layerSizes: [100_000] });
const rows: Array<SmallRow & { runtime: string }> = [];
const ladder: Array<SmallRow & { runtime: string }> = [];
for (const rt of runtimes) {
  const br = await startProcessServer(rt, { storage: { type: 'fs', path: join(work.path, `data-${rt}`) }, log: { requests: false }, repos: [{ name: 'loc', format: 'docker', type: 'local' }] }, work.path, { compiled: rt === 'node' });
  try {
    await pushImage(`${br.url}/repo/loc`, 'app', '1', img);
    const requests = [
      { label: 'manifest HEAD by tag', method: 'HEAD' as const, path: '/v2/app/manifests/1' },
      { label: 'manifest GET by tag', method: 'GET' as const, path: '/v2/app/manifests/1' },
      { label: 'blob HEAD', method: 'HEAD' as const, path: `/v2/app/blobs/${img.layers[0]?.digest ?? ''}` },
    ];
    for (const r of await wrk(`binaryrepo (${rt})`, `${br.url}/repo/loc`, requests, seconds, work.path, br.child.pid)) rows.push({ ...r, runtime: rt });
    // The steps between the minimal handler and a manifest GET (the ladder below the table).
    const steps = [
      { label: 'GET /-/health', method: 'GET' as const, path: '/-/health' },
      { label: 'GET /v2/ of a repo', method: 'GET' as const, path: '/repo/loc/v2/' },
    ];
    for (const r of await wrk(`binaryrepo (${rt})`, br.url, steps, seconds, work.path, br.child.pid)) ladder.push({ ...r, runtime: rt });
  } finally {
    await br.stop();
  }
  for (const raw of rt === 'node' ? [false, true] : [false]) {
    const m = await startMinimal(rt, { raw });
    try {
      const requests = [
        { label: 'manifest HEAD by tag', method: 'HEAD' as const, path: '/' },
        { label: 'manifest GET by tag', method: 'GET' as const, path: '/' },
      ];
      for (const r of await wrk(raw ? 'node:http handler' : `minimal fetch handler (${rt})`, m.url, requests, seconds, work.path, m.pid)) rows.push({ ...r, runtime: rt });
    } finally {
      m.stop();
    }
  }
  for (const variant of ['async', 'hono', 'spin10', 'spin20']) {
    const m = await startMinimal(rt, { variant });
    try {
      const label = variant === 'async' ? 'handler awaits once, reads a header' : variant === 'hono' ? 'the same behind Hono with one middleware' : `the awaiting handler busy ${variant.slice(4)} µs`;
      for (const r of await wrk(`variant ${variant}`, m.url, [{ label, method: 'GET', path: '/' }], seconds, work.path, m.pid)) ladder.push({ ...r, runtime: rt });
    } finally {
      m.stop();
    }
  }
  log(`floor: ${rt} done`);
}
await work.cleanup();

const floorOf = (rt: string, request: string): number | undefined => rows.find((r) => r.runtime === rt && r.target.startsWith('minimal') && r.request === (request === 'blob HEAD' ? 'manifest HEAD by tag' : request))?.rps;
console.log(`## Small requests against the runtime's minimal handler — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; Node ${process.versions.node} (binaryrepo from dist/), Bun and Deno from node_modules. wrk (GET) and ab (HEAD), 16 keep-alive connections, ${seconds} s each, one server at a time. The minimal handler answers every request with a 500-byte manifest-like body: the floor of serving anything over that runtime's HTTP stack (blob HEAD is compared with its HEAD). Target: binaryrepo ≥ 50 %.

| runtime | request | binaryrepo (req/s) | minimal handler (req/s) | binaryrepo ÷ minimal | binaryrepo p99 (ms) |
|---|---|---:|---:|---:|---:|
${rows
  .filter((r) => r.target.startsWith('binaryrepo'))
  .map((r) => {
    const f = floorOf(r.runtime, r.request);
    return `| ${r.runtime} | ${r.request} | ${r.rps.toFixed(0)} | ${f?.toFixed(0) ?? ''} | ${f ? `${((100 * r.rps) / f).toFixed(0)} %` : ''} | ${r.p99ms.toFixed(1)} |`;
  })
  .join('\n')}
${rows
  .filter((r) => r.target === 'node:http handler')
  .map((r) => `\nnode:http without the fetch adapter, ${r.request}: ${r.rps.toFixed(0)} req/s.`)
  .join('')}

Where a GET's time goes (wrk, req/s, each step measured alone in this run): the minimal handler; the
handler awaiting once and reading a header; that behind Hono with one middleware; binaryrepo's
health check (its own middleware: metrics, admission, client address); a repo's /v2/ (routing to a
repo and its format, the access decision); a manifest GET by tag (tag and manifest lookups, metrics,
the response's headers).

| runtime | minimal | + await, header | + Hono, middleware | binaryrepo /-/health | binaryrepo /v2/ | binaryrepo manifest GET |
|---|---:|---:|---:|---:|---:|---:|
${runtimes.map((rt) => ladderRow(rt, (r) => r.rps.toFixed(0))).join('\n')}

The server's CPU per request at each step (µs, all its threads, user + kernel, from /proc during
the same runs), and what busy handler work costs on top of the minimal handler: every µs of work
raises the server's CPU per request by more than a µs, because a slower server loses the batching
(one wake-up and one writev serving several responses) and wakes a sleeping client per response.

| runtime | minimal | + await, header | + Hono, middleware | binaryrepo /-/health | binaryrepo /v2/ | binaryrepo manifest GET | minimal + 10 µs busy | minimal + 20 µs busy |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${runtimes.map((rt) => `${ladderRow(rt, (r) => r.cpuUs.toFixed(0))} ${spin(rt, 'spin10')} | ${spin(rt, 'spin20')} |`).join('\n')}

Rates with the busy handler (req/s): ${runtimes.map((rt) => `${rt} ${spin(rt, 'spin10', 'rps')} (+10 µs), ${spin(rt, 'spin20', 'rps')} (+20 µs)`).join('; ')}.
`);

function ladderRow(rt: string, value: (r: SmallRow) => string): string {
  const at = (target: string, request: string): string => {
    const r = rows.concat(ladder).find((x) => x.runtime === rt && x.target.startsWith(target) && x.request.startsWith(request));
    return r ? value(r) : 'NaN';
  };
  return `| ${rt} | ${at('minimal', 'manifest GET')} | ${at('variant async', '')} | ${at('variant hono', '')} | ${at('binaryrepo', 'GET /-/health')} | ${at('binaryrepo', 'GET /v2/')} | ${at('binaryrepo', 'manifest GET')} |`;
}

function spin(rt: string, variant: string, what: 'cpuUs' | 'rps' = 'cpuUs'): string {
  const r = ladder.find((x) => x.runtime === rt && x.target === `variant ${variant}`);
  return r ? r[what].toFixed(0) : 'NaN';
}
