// make bench / make bench-quick: cold and warm pulls through binaryrepo, side by side with the
// upstream itself and the CNCF registry in proxy mode, interleaved round by round; medians and
// ratios from the same run. Loopback only. See bench/README.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { startProcessServer } from '../test/helpers/process-server.ts';
import type { ProcessServer, RuntimeName } from '../test/helpers/process-server.ts';
import { pullImage } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import type { RunningRegistry } from '../test/helpers/registry.ts';
import { startRelay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { seedImages } from './images.ts';
import type { BenchImage } from './images.ts';

const quick = process.argv.includes('--quick');
const latencyArg = process.argv.find((a) => a.startsWith('--latency-ms='));
const rateArg = process.argv.find((a) => a.startsWith('--mbit='));
const rounds = quick ? 3 : 5;
const rtArg = process.argv.find((a) => a.startsWith('--runtimes='));
const runtimes = (rtArg ? rtArg.split('=')[1]?.split(',') : quick ? ['node'] : ['node', 'bun', 'deno']) as RuntimeName[];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const work = await tempDir('bench-');
const origin = await startRegistry();
const relay = await startRelay(origin.url, {
  ...(latencyArg ? { latencyMs: Number(latencyArg.split('=')[1]) } : {}),
  ...(rateArg ? { bytesPerSecond: (Number(rateArg.split('=')[1]) * 1e6) / 8 } : {}),
});
const images = await seedImages(origin.url, quick);
const total = images.reduce((a, i) => a + i.bytes, 0);

async function pullAll(base: string): Promise<number> {
  const t0 = performance.now();
  for (const img of images) await pullImage(base, img.name, img.tag);
  return performance.now() - t0;
}

type Candidate = { name: string; cold: () => Promise<{ base: string; stop: () => Promise<void> }> };
let seq = 0;
const binaryrepo = (rt: RuntimeName): Candidate => ({
  name: `binaryrepo (${rt})`,
  cold: async () => {
    const dir = join(work.path, `br-${seq++}`);
    await mkdir(dir, { recursive: true });
    const srv: ProcessServer = await startProcessServer(rt, {
      storage: { type: 'fs', path: join(dir, 'data') },
      log: { requests: false },
      repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: relay.url } }],
    }, dir);
    return { base: `${srv.url}/repo/hub`, stop: () => srv.stop() };
  },
});
const cncfProxy: Candidate = {
  name: 'CNCF registry proxy',
  cold: async () => {
    const reg: RunningRegistry = await startRegistry({ proxyRemoteUrl: relay.url });
    return { base: reg.url, stop: () => reg.stop() };
  },
};
const candidates = [...runtimes.map(binaryrepo), cncfProxy];

const rows = new Map<string, { cold: number[]; warm: number[]; upstreamBytes: number[]; failures: string[] }>();
const direct: number[] = [];
for (let r = 0; r < rounds; r++) {
  relay.reset();
  direct.push(await pullAll(relay.url));
  for (const c of candidates) {
    const row = rows.get(c.name) ?? { cold: [], warm: [], upstreamBytes: [], failures: [] };
    rows.set(c.name, row);
    const inst = await c.cold();
    try {
      relay.reset();
      row.cold.push(await pullAll(inst.base));
      row.upstreamBytes.push(relay.bytes.value);
      row.warm.push(await pullAll(inst.base));
    } catch (e) {
      // A failed pull is a result too: report it with the candidate instead of dying.
      row.failures.push(`round ${r + 1}: ${e instanceof Error ? `${e.message} ${String(e.cause ?? '')}` : String(e)}`);
    } finally {
      await inst.stop();
    }
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

// Concurrency: N clients pull the medium image at once from a cold cache; count upstream bytes.
const medium = images.find((i) => i.name === 'bench/medium') as BenchImage;
const conc: Array<{ candidate: string; clients: number; ms: number; upstreamBytes: number }> = [];
for (const clients of quick ? [8] : [1, 8, 32]) {
  for (const c of [candidates[0] as Candidate, cncfProxy]) {
    const inst = await c.cold();
    try {
      relay.reset();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, () => pullImage(inst.base, medium.name, medium.tag)));
      conc.push({ candidate: c.name, clients, ms: performance.now() - t0, upstreamBytes: relay.bytes.value });
    } finally {
      await inst.stop();
    }
  }
}

const d = median(direct);
const env = {
  date: new Date().toISOString(),
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
  memGiB: Math.round(totalmem() / 2 ** 30),
  loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
  node: process.versions.node,
  quick,
  rounds,
  shaping: { latencyMs: latencyArg ? Number(latencyArg.split('=')[1]) : 0, mbit: rateArg ? Number(rateArg.split('=')[1]) : 0 },
  imageSetBytes: total,
};
const lines = [
  `binaryrepo pull bench — ${env.date}, ${env.cpus}, ${env.memGiB} GiB, load ${env.loadavg}, node ${env.node}`,
  `image set: ${images.map((i) => `${i.name} ${(i.bytes / 1e6).toFixed(1)} MB`).join(', ')}; ${rounds} rounds, medians; upstream = docker-registry behind a counting relay${env.shaping.latencyMs || env.shaping.mbit ? ` shaped to ${env.shaping.latencyMs} ms / ${env.shaping.mbit} Mbit/s` : ''}`,
  '',
  '| candidate | cold ms | cold ÷ direct | warm ms | warm ÷ direct | upstream bytes (cold) ÷ image set |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| upstream direct | ${d.toFixed(0)} | 1.00 | | | |`,
];
for (const [name, row] of rows) {
  const cold = median(row.cold);
  const warm = median(row.warm);
  lines.push(`| ${name} | ${cold.toFixed(0)} | ${(cold / d).toFixed(2)} | ${warm.toFixed(0)} | ${(warm / d).toFixed(2)} | ${(median(row.upstreamBytes) / total).toFixed(2)} |`);
}
for (const [name, row] of rows) for (const f of row.failures) lines.push(`FAILED ${name} ${f}`);
lines.push('', `| concurrent cold pulls of ${medium.name} (${(medium.bytes / 1e6).toFixed(0)} MB) | clients | wall ms | upstream bytes ÷ image |`, '| --- | ---: | ---: | ---: |');
for (const c of conc) lines.push(`| ${c.candidate} | ${c.clients} | ${c.ms.toFixed(0)} | ${(c.upstreamBytes / medium.bytes).toFixed(2)} |`);
console.log(lines.join('\n'));
await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
const file = join(import.meta.dirname, 'results', `pull-${env.date.replace(/[:.]/g, '-')}.json`);
await writeFile(file, JSON.stringify({ env, images, direct, rows: Object.fromEntries(rows), concurrency: conc }, null, 2));
console.log(`\nJSON: ${file}`);
await relay.close();
await origin.stop();
await work.cleanup();
