// A/B of the Node adapter's upstream fetch (issue 13): the same compiled server, cold pulls of one
// image from docker-registry on loopback, with node:http and native bodies (the default) and with
// undici's fetch (BINARYREPO_NODE_FETCH=undici). Rounds alternate in a shuffled order; each round
// also times the pull straight from the upstream, and ratios are taken per round, then the median.
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { pullImage } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { seedImages } from './images.ts';
import { inShuffledOrder, median, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const work = await tempDir('bench-fetch-');
const upstream = await startRegistry();
const images = await seedImages(upstream.url, quick);
const ratios: Record<string, number[]> = { 'node:http (default)': [], 'undici fetch': [] };
const times: Record<string, number[]> = { direct: [], 'node:http (default)': [], 'undici fetch': [] };
let n = 0;

async function coldPull(base: string): Promise<number> {
  const t0 = performance.now();
  for (const img of images) await pullImage(base, img.name, img.tag);
  return performance.now() - t0;
}

for (let round = 0; round < ROUNDS; round++) {
  const got: Record<string, number> = {};
  await inShuffledOrder([
    async () => {
      got['direct'] = await coldPull(upstream.url);
    },
    ...(['node:http (default)', 'undici fetch'] as const).map((mode) => async () => {
      const dir = join(work.path, `s${n++}`);
      await mkdir(dir, { recursive: true });
      const srv = await startProcessServer('node', { storage: { type: 'fs', path: join(dir, 'data') }, log: { requests: false }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: upstream.url } }] }, dir, {
        compiled: true,
        ...(mode === 'undici fetch' ? { env: { BINARYREPO_NODE_FETCH: 'undici' } } : {}),
      });
      try {
        got[mode] = await coldPull(`${srv.url}/repo/hub`);
      } finally {
        await srv.stop();
      }
    }),
  ]);
  for (const [k, v] of Object.entries(got)) times[k]?.push(v);
  for (const mode of Object.keys(ratios)) ratios[mode]?.push((got[mode] ?? Number.NaN) / (got['direct'] ?? Number.NaN));
  process.stderr.write(`round ${round + 1}/${ROUNDS}: ${JSON.stringify(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Math.round(v)])))}\n`);
}

const total = images.reduce((a, i) => a + i.bytes, 0);
console.log(`## Upstream fetch on Node: node:http vs undici — ${new Date().toISOString()}

Node ${process.version} (compiled dist/), ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; seed ${seed}.
Cold pull of the image set (${(total / 1e6).toFixed(1)} MB: ${images.map((i) => i.name).join(', ')}) from docker-registry on loopback, ${ROUNDS} rounds.

| | median ms | median cold ÷ direct |
|---|---:|---:|
| upstream direct | ${median(times['direct'] ?? []).toFixed(0)} | 1.00 |
${Object.keys(ratios).map((m) => `| binaryrepo (node), ${m} | ${median(times[m] ?? []).toFixed(0)} | ${median(ratios[m] ?? []).toFixed(2)} |`).join('\n')}
`);
await upstream.stop();
await work.cleanup();
