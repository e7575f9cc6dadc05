// make bench / make bench-quick: cold and warm pulls through binaryrepo, side by side with the
// upstream itself, the CNCF registry in proxy mode and nginx serving the same files, interleaved
// round by round; medians and ratios from the same run; small-request rates (wrk), peak RSS and a
// client-ceiling check. Loopback only. See bench/README.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { run } from '../test/helpers/net.ts';
import type { RuntimeName } from '../test/helpers/process-server.ts';
import { pullImage } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { startRelay } from '../test/helpers/relay.ts';
import type { Relay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { clientCeiling } from './ceiling.ts';
import { withCpu } from './cpu.ts';
import type { CpuSample } from './cpu.ts';
import { seedBigImage, seedImages } from './images.ts';
import type { BenchImage } from './images.ts';
import { measureMemory } from './memory.ts';
import type { MemoryRow } from './memory.ts';
import { binaryrepo, cncfProxy, startNginxPeer } from './peers.ts';
import type { Candidate, Instance } from './peers.ts';
import { report } from './report.ts';
import type { ConcRow, RoundsResult } from './report.ts';
import { median, rng, seed } from './stats.ts';
import { startMinimal } from './minimal.ts';
import { wrk } from './small.ts';
import type { SmallRow } from './small.ts';

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 5;
const runtimes = (arg('runtimes')?.split(',') ?? (quick ? ['node'] : ['node', 'bun', 'deno'])) as RuntimeName[];
const bigMb = Number(arg('big-mb') ?? (quick ? 0 : 1024));
const shapeLatency = Number(arg('latency-ms') ?? 30);
const shapeMbit = Number(arg('mbit') ?? 200);
const shaped = !process.argv.includes('--no-shaped') && (!quick || arg('latency-ms') !== undefined || arg('mbit') !== undefined);
const wrkSeconds = quick ? 2 : 5;

const log = (s: string): boolean => process.stderr.write(`${s}\n`);

const work = await tempDir('bench-');
const origin = await startRegistry();
const images = await seedImages(origin.url, quick);
// The same shapes with other bytes: what a fresh process pulls first, before the measured cold pull.
const firstImages = await seedImages(origin.url, quick, 'first');
const big = bigMb > 0 ? await seedBigImage(origin.url, 'bench/big', bigMb * 1024 * 1024) : undefined;
const medium = images.find((i) => i.name === 'bench/medium') as BenchImage;
const total = images.reduce((a, i) => a + i.bytes, 0);
const nginx = await startNginxPeer(origin, [...images, ...(big ? [big] : [])], work.path);
log(`seeded ${images.length} images${big ? ` and a ${bigMb} MiB layer` : ''}`);

async function pullAll(base: string, set: BenchImage[] = images): Promise<number> {
  const t0 = performance.now();
  for (const img of set) await pullImage(base, img.name, img.tag);
  return performance.now() - t0;
}

/**
 * Interleaved rounds: direct, each candidate (cold then warm on a fresh instance) and nginx, in an
 * order shuffled per round (seeded: BENCH_SEED), so no candidate always runs first or after the
 * same neighbour. Every series keeps one value per round (NaN for a failed one), so the report can
 * take ratios within a round (paired) before the median.
 */
async function rounds_(relay: Relay, candidates: Candidate[], n: number, label: string): Promise<RoundsResult> {
  const rows: RoundsResult['rows'] = {};
  const direct: number[] = [];
  const directCpu: CpuSample[] = [];
  const nginxWarm: number[] = [];
  const orders: string[][] = [];
  for (const c of candidates) rows[c.name] = { coldFirst: [], cold: [], coldCpu: [], warm: [], upstreamBytes: [], failures: [] };
  for (let r = 0; r < n; r++) {
    const tasks: Array<{ name: string; run: () => Promise<void> }> = [
      { name: 'direct', run: async () => {
        relay.reset();
        directCpu.push(await withCpu(origin.child.pid, undefined, async () => void direct.push(await pullAll(relay.url))));
      } },
      { name: 'nginx', run: async () => void nginxWarm.push(await pullAll(nginx.base)) },
      ...candidates.map((c) => ({ name: c.name, run: async () => {
        const row = rows[c.name] as RoundsResult['rows'][string];
        let inst: Instance | undefined;
        try {
          inst = await c.start();
          // A cache miss as a server in use meets it: its first traffic (another image set, same
          // shapes, also a miss) runs before, and is reported on its own (Node's code is not
          // optimized yet then).
          row.coldFirst.push(await pullAll(inst.base, firstImages));
          relay.reset();
          const running = inst;
          row.coldCpu.push(await withCpu(origin.child.pid, running.pid, async () => void row.cold.push(await pullAll(running.base))));
          row.upstreamBytes.push(relay.bytes.value);
          row.warm.push(await pullAll(inst.base));
        } catch (e) {
          // A failed pull is a result too: report it with the candidate instead of dying.
          for (const series of [row.coldFirst, row.cold, row.upstreamBytes, row.warm]) while (series.length <= r) series.push(Number.NaN);
          row.failures.push(`round ${r + 1}: ${e instanceof Error ? `${e.message} ${String(e.cause ?? '')}` : String(e)}`);
        } finally {
          await inst?.stop();
        }
      } })),
    ];
    shuffle(tasks, rng);
    orders.push(tasks.map((t) => t.name));
    for (const t of tasks) await t.run();
    log(`${label}: round ${r + 1}/${n} done (${orders[r]?.join(' → ')})`);
  }
  return { label, direct, directCpu, nginx: nginxWarm, rows, orders };
}

/** Fisher-Yates with the bench's seeded generator. */
function shuffle<T>(xs: T[], random: () => number): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
}

const unshapedRelay = await startRelay(origin.url);
const main = await rounds_(unshapedRelay, [...runtimes.map((rt) => binaryrepo(rt, unshapedRelay.url, work.path)), cncfProxy(unshapedRelay.url)], rounds, 'unshaped');
let shapedResult: RoundsResult | undefined;
if (shaped) {
  const shapedRelay = await startRelay(origin.url, { latencyMs: shapeLatency, bytesPerSecond: (shapeMbit * 1e6) / 8 });
  shapedResult = await rounds_(shapedRelay, [binaryrepo('node', shapedRelay.url, work.path), cncfProxy(shapedRelay.url)], 3, `shaped ${shapeLatency} ms / ${shapeMbit} Mbit/s`);
  await shapedRelay.close();
}

// Concurrency: N clients pull the medium image at once from a cold cache; count upstream bytes.
const conc: ConcRow[] = [];
for (const clients of quick ? [8] : [1, 8, 32]) {
  for (const c of [binaryrepo(runtimes[0] ?? 'node', unshapedRelay.url, work.path), cncfProxy(unshapedRelay.url)]) {
    const inst = await c.start();
    try {
      await pullAll(inst.base, firstImages);
      unshapedRelay.reset();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, () => pullImage(inst.base, medium.name, medium.tag)));
      const ms = performance.now() - t0;
      conc.push({ candidate: c.name, clients, ms, mbPerSec: (clients * medium.bytes) / 1e6 / (ms / 1000), upstreamBytes: unshapedRelay.bytes.value, upstreamRequests: unshapedRelay.count('GET', '/blobs/') });
    } finally {
      await inst.stop();
    }
  }
}
log('concurrency done');

// Small requests on a warm cache: binaryrepo per runtime, the CNCF registry proxy (warm) and the
// CNCF registry serving its own content, nginx serving the same files.
const small: SmallRow[] = [];
const layer = await firstLayer(origin.url, medium);
const requests = [
  { label: 'manifest HEAD (tag)', method: 'HEAD' as const, path: `/v2/${medium.name}/manifests/${medium.tag}` },
  { label: 'manifest GET (tag)', method: 'GET' as const, path: `/v2/${medium.name}/manifests/${medium.tag}` },
  { label: 'blob HEAD', method: 'HEAD' as const, path: `/v2/${medium.name}/blobs/${layer}` },
  // One large blob over and over (the issue's "single large blob with wrk"): requests/s × its size.
  { label: 'blob GET (one medium layer)', method: 'GET' as const, path: `/v2/${medium.name}/blobs/${layer}` },
];
for (const rt of runtimes) {
  const inst = await binaryrepo(rt, unshapedRelay.url, work.path).start();
  try {
    await pullImage(inst.base, medium.name, medium.tag);
    small.push(...(await wrk(`binaryrepo (${rt})`, inst.base, requests, wrkSeconds, work.path)));
  } finally {
    await inst.stop();
  }
  // The same blob file sent by a minimal server in the runtime's own way: that runtime's ceiling
  // for the large-blob row, measured beside it.
  const own = await startMinimal(rt, { file: join(origin.rootDir, 'docker/registry/v2/blobs/sha256', layer.slice(7, 9), layer.slice(7), 'data') });
  try {
    small.push(...(await wrk(`${rt}'s own file send (minimal server)`, own.url, requests.filter((r) => r.label.startsWith('blob GET')), wrkSeconds, work.path)));
  } finally {
    own.stop();
  }
}
{
  // The CNCF registry as the pull-through cache it is compared with (warm), and, labelled as such,
  // the same registry serving content it hosts itself (no proxy work at all).
  const proxy = await cncfProxy(unshapedRelay.url).start();
  try {
    await pullImage(proxy.base, medium.name, medium.tag);
    small.push(...(await wrk('CNCF registry proxy (warm)', proxy.base, requests, wrkSeconds, work.path)));
  } finally {
    await proxy.stop();
  }
}
small.push(...(await wrk('CNCF registry serving its own content', origin.url, requests, wrkSeconds, work.path)));
small.push(...(await wrk('nginx (static files)', nginx.base, requests, wrkSeconds, work.path)));
log('small requests done');

const memory: MemoryRow[] = [];
for (const rt of runtimes) memory.push(...(await measureMemory(binaryrepo(rt, unshapedRelay.url, work.path), big, medium, quick ? 8 : 32)));
log('memory done');

// Warm pulls with curl as the client (the client-ceiling check), every runtime beside nginx.
const warmServers: Instance[] = [];
let ceiling: Awaited<ReturnType<typeof clientCeiling>>;
try {
  for (const rt of runtimes) {
    const inst = await binaryrepo(rt, unshapedRelay.url, work.path).start();
    warmServers.push(inst);
    await pullImage(inst.base, medium.name, medium.tag);
  }
  ceiling = await clientCeiling([{ name: 'nginx', base: nginx.base }, ...warmServers.map((inst, i) => ({ name: `binaryrepo (${runtimes[i] ?? ''}), warm`, base: inst.base }))], medium, quick ? 3 : 7);
} finally {
  for (const inst of warmServers) await inst.stop();
}

const env = {
  date: new Date().toISOString(),
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  cores: cpus().length,
  memGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
  runtimes: await versions(runtimes),
  quick,
  rounds,
  seed,
  imageSetBytes: total,
};
console.log(report({ env, images, big, main, shaped: shapedResult, conc, small, memory, ceiling, medium, median }));
await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
const file = join(import.meta.dirname, 'results', `pull-${env.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify({ env, images, big, main, shaped: shapedResult, concurrency: conc, small, memory, ceiling }, null, 2));
console.log(`\nJSON: ${file}`);
await nginx.stop();
await unshapedRelay.close();
await origin.stop();
await work.cleanup();

async function firstLayer(base: string, img: BenchImage): Promise<string> {
  const res = await fetch(`${base}/v2/${img.name}/manifests/${img.tag}`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
  const doc = (await res.json()) as { layers: Array<{ digest: string }> };
  return doc.layers[0]?.digest ?? '';
}

async function versions(rts: RuntimeName[]): Promise<Record<string, string>> {
  const out: Record<string, string> = { node: process.versions.node };
  const bin = (n: string): string => join(import.meta.dirname, '..', 'node_modules', '.bin', n);
  if (rts.includes('bun')) out['bun'] = (await run(bin('bun'), ['--version'])).stdout.trim();
  if (rts.includes('deno')) out['deno'] = /deno (\S+)/.exec((await run(bin('deno'), ['--version'])).stdout)?.[1] ?? '?';
  out['nginx'] = /nginx\/(\S+)/.exec((await run('nginx', ['-v'])).stderr)?.[1] ?? '?';
  out['docker-registry'] = (await run('docker-registry', ['--version'])).stdout.trim().split(' ').pop() ?? '?';
  out['wrk'] = /wrk (\S+)/.exec((await run('wrk', ['--version'])).stdout + (await run('wrk', ['--version'])).stderr)?.[1] ?? '?';
  return out;
}
