// make loadtest: 200 concurrent clients mixing warm manifest/blob GETs, cold pulls and pushes
// against one binaryrepo process for 60 s (loopback only, bounded in time). Every body is checked
// against its digest. Exits non-zero on any error or corrupt byte. See bench/README.md.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { makeImage, pushImage } from '../test/helpers/images.ts';
import type { TestImage } from '../test/helpers/images.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import type { RuntimeName } from '../test/helpers/process-server.ts';
import { PULL_ACCEPT, pullImage } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const seconds = Number(arg('seconds') ?? 60);
const clients = Number(arg('clients') ?? 200);
const coldImages = Number(arg('cold-images') ?? 150);
const runtime = (arg('runtime') ?? 'node') as RuntimeName;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);

const work = await tempDir('load-');
const origin = await startRegistry();
log(`seeding ${coldImages} upstream images…`);
const upstream: Array<{ name: string; img: TestImage }> = [];
for (let i = 0; i < coldImages; i++) {
  const img = await makeImage({ layerSizes: [30_000 + (i % 7) * 10_000] });
  await pushImage(origin.url, `load/img${i}`, '1', img);
  upstream.push({ name: `load/img${i}`, img });
}
const srv = await startProcessServer(runtime, {
  storage: { type: 'fs', path: join(work.path, 'data') },
  log: { requests: false },
  // All 200 clients come from 127.0.0.1 here: the per-address bounds are for real fleets.
  http: { maxBodiesPerClient: 0 },
  repos: [
    { name: 'hub', format: 'docker', type: 'remote', upstream: { url: origin.url } },
    { name: 'local', format: 'docker', type: 'local' },
  ],
}, work.path, { compiled: true });
const hub = `${srv.url}/repo/hub`;
const warm = upstream.slice(0, 5);
for (const w of warm) await pullImage(hub, w.name, '1');
let nextCold = warm.length;

type Op = 'warm manifest' | 'warm blob' | 'cold pull' | 'push';
const lat = new Map<Op, number[]>();
const errors: string[] = [];
let corrupt = 0;
let bytes = 0;
const record = (op: Op, ms: number): void => void lat.set(op, [...(lat.get(op) ?? []), ms]);
const sha = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function timed(op: Op, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await fn();
    record(op, performance.now() - t0);
  } catch (e) {
    if (errors.length < 50) errors.push(`${op}: ${e instanceof Error ? e.message : String(e)}`);
    else errors.push('');
  }
}

async function warmOp(r: number): Promise<void> {
  const w = warm[Math.floor(r * warm.length)] ?? warm[0];
  if (!w) return;
  if (r < 0.5) {
    await timed('warm manifest', async () => {
      const res = await fetch(`${hub}/v2/${w.name}/manifests/1`, { headers: { accept: PULL_ACCEPT } });
      const b = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`manifest ${res.status}`);
      if (sha(b) !== w.img.manifest.digest) {
        corrupt++;
        throw new Error('manifest digest mismatch');
      }
    });
    return;
  }
  const blob = w.img.layers[0] ?? w.img.config;
  await timed('warm blob', async () => {
    const res = await fetch(`${hub}/v2/${w.name}/blobs/${blob.digest}`);
    const b = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`blob ${res.status}`);
    bytes += b.byteLength;
    if (sha(b) !== blob.digest) {
      corrupt++;
      throw new Error('blob digest mismatch');
    }
  });
}

let pushes = 0;
async function client(deadline: number): Promise<void> {
  while (performance.now() < deadline) {
    const r = Math.random();
    if (r < 0.7) await warmOp(r / 0.7);
    else if (r < 0.85 && nextCold < upstream.length) {
      const u = upstream[nextCold++];
      if (u) await timed('cold pull', async () => void (bytes += (await pullImage(hub, u.name, '1')).bytes));
    } else {
      const n = pushes++;
      await timed('push', async () => {
        const img = await makeImage({ layerSizes: [20_000] });
        await pushImage(`${srv.url}/repo/local`, `load/pushed${n}`, '1', img);
        const back = await pullImage(`${srv.url}/repo/local`, `load/pushed${n}`, '1');
        if (back.manifestDigest !== img.manifest.digest) {
          corrupt++;
          throw new Error('pushed image came back different');
        }
      });
    }
  }
}

async function rssMb(): Promise<number> {
  const status = await readFile(`/proc/${srv.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}
const rss: number[] = [await rssMb()];
const sampler = setInterval(() => void rssMb().then((m) => rss.push(m), () => {}), 1000);
log(`${clients} clients for ${seconds} s against binaryrepo (${runtime})…`);
const t0 = performance.now();
await Promise.all(Array.from({ length: clients }, () => client(t0 + seconds * 1000)));
const wall = (performance.now() - t0) / 1000;
clearInterval(sampler);
rss.push(await rssMb());

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
const total = [...lat.values()].reduce((a, x) => a + x.length, 0);
const env = { date: new Date().toISOString(), cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, memGiB: Math.round(totalmem() / 2 ** 30), loadavg: loadavg().map((x) => x.toFixed(2)).join(' '), runtime, node: process.versions.node };
const lines = [
  `## binaryrepo load test — ${env.date}`,
  '',
  `Machine: ${env.cpus}, ${env.memGiB} GiB, load ${env.loadavg}; server runtime ${runtime}, client Node ${env.node}. ${clients} clients, ${wall.toFixed(0)} s.`,
  `Requests: ${total} operations (${(total / wall).toFixed(0)}/s), ${(bytes / 1e6).toFixed(0)} MB verified; errors ${errors.length}, corrupt bodies ${corrupt}.`,
  `Server RSS: start ${rss[0]?.toFixed(0)} MB, max ${Math.max(...rss).toFixed(0)} MB, end ${rss[rss.length - 1]?.toFixed(0)} MB.`,
  '',
  '| operation | count | p50 ms | p99 ms | max ms |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...[...lat].map(([op, xs]) => `| ${op} | ${xs.length} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 99).toFixed(1)} | ${Math.max(...xs).toFixed(0)} |`),
  ...errors.filter(Boolean).slice(0, 10).map((e) => `ERROR ${e}`),
];
console.log(lines.join('\n'));
await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
await writeFile(join(import.meta.dirname, 'results', `load-${env.date.replace(/[:.]/g, '-')}.json`), JSON.stringify({ env, clients, seconds: wall, total, bytes, errors, corrupt, rss, latency: Object.fromEntries(lat) }, null, 2));
await srv.stop();
await origin.stop();
await work.cleanup();
process.exit(errors.length === 0 && corrupt === 0 ? 0 : 1);
