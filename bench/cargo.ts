// The Cargo section of `make bench` (issue 28). The upstream is nginx over a generated sparse
// registry (index files and .crate files with crates.io-like sizes, 1 to 40 versions per crate, one
// of 500), behind the counting relay (unshaped and, in the full run, shaped like the internet). In
// shuffled rounds, with ratios per round:
// 1. `cargo fetch --locked` of an app whose lock names N crates, each run with a fresh CARGO_HOME:
//    straight from the upstream, through a binaryrepo remote (cold, then warm), through nginx
//    proxy_cache in front of the same upstream (cold, then warm).
// 2. Index files of the warm remote under 20 concurrent clients (a small one and the 500-version one).
// 3. Publish to visible: a hosted repo's PUT /api/v1/crates/new, then the index polled until it lists the version.
// kellnr and panamax are not run: kellnr ships as a container or zip (not `cargo install`), and
// panamax mirrors all of crates.io from its git index (not a pull-through cache on loopback).
import { mkdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildSparseTree, cargo, cargoHome, crateFile, indexPathOf, publishFrame, writeApp, writeRegistryConfig } from '../test/helpers/cargo.ts';
import type { CrateSpec } from '../test/helpers/cargo.ts';
import { startProxyCacheNginx, startStaticNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { startRelay } from '../test/helpers/relay.ts';
import type { Relay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { binaryrepoWith, coldWarmRuns, ratioTable, roundTimes } from './caches.ts';
import type { Cache } from './caches.ts';
import { peakRssMb } from './memory.ts';
import { loadGets, pct } from './npm-graph.ts';
import { inShuffledOrder, median, rng, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const N = quick ? 80 : 300;
const ROUNDS = quick ? 1 : 3;
const LOAD_MS = quick ? 4000 : 10_000;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const work = await tempDir('bench-cargo-');
let seq = 0;
const rss: Record<string, number> = {};
const noteRss = async (who: string, pid: number | undefined): Promise<void> => {
  if (pid) rss[who] = Math.max(rss[who] ?? 0, await peakRssMb(pid).catch(() => 0));
};

// --- the upstream registry -------------------------------------------------------------------------
// The measured crates and a warm-up set of the same shapes: each fresh cache fetches the warm-up
// first, so the cold row is a miss as a running server meets it.
const specs: CrateSpec[] = [];
let bytes = 0;
for (const pre of ['c', 'w']) {
  for (let i = 0; i < N; i++) {
    const versions = i === 0 ? 500 : 1 + Math.floor(rng() * rng() * 40);
    // Sizes as on crates.io: log-normal around 30 KB, a few of a few MB (the padding is text: it gzips, so it is random words).
    const size = Math.min(3 << 20, Math.round(Math.exp(Math.log(30_000) + 1.2 * (rng() + rng() + rng() - 1.5) * 1.6)));
    for (let v = 0; v < versions; v++) specs.push({ name: `${pre}-crate-${i}`, vers: `1.${v}.0`, ...(v === versions - 1 ? { padding: size } : {}) });
  }
}
const tree = join(work.path, 'tree');
const files = await buildSparseTree(tree, specs);
for (const [k, b] of files) if (k.startsWith('c-') && specs.some((s) => `${s.name}@${s.vers}` === k && s.padding)) bytes += b.byteLength;
const origin = await startStaticNginx(tree, work.path);
const relayU = await startRelay(origin.url);
const links: Array<{ name: string; relay: Relay }> = [{ name: 'unshaped', relay: relayU }];
if (!quick) links.push({ name: 'shaped 30 ms / 200 Mbit/s', relay: await startRelay(origin.url, { latencyMs: 30, bytesPerSecond: 25e6 }) });
log(`cargo: ${N} crates (${specs.length / 2} versions), ${(bytes / 1e6).toFixed(1)} MB of crates fetched per build`);

// One app per set, its lock made once against the upstream itself (lock files name crates.io, whatever replaces it).
const apps: Record<string, string> = {};
for (const pre of ['c', 'w']) {
  const dir = join(work.path, `app-${pre}`);
  await writeApp(dir, `app-${pre}`, Array.from({ length: N }, (_, i) => `${pre}-crate-${i} = "1"`));
  await writeRegistryConfig(tree, origin.url);
  const r = await cargo(['generate-lockfile'], { cwd: dir, home: await cargoHome(join(work.path, `lock-${pre}`), `${origin.url}/index/`) });
  if (r.code !== 0) throw new Error(`generate-lockfile: ${r.out}`);
  apps[pre] = dir;
}

async function fetchAll(index: string, set = 'c'): Promise<number> {
  const home = await cargoHome(join(work.path, `h-${seq++}`), index);
  const t = performance.now();
  const r = await cargo(['fetch', '--locked'], { cwd: apps[set] ?? '', home });
  if (r.code !== 0) throw new Error(`cargo fetch via ${index}: ${r.out.slice(-3000)}`);
  return performance.now() - t;
}

const binaryrepo = (upstream: string): Promise<Cache> => binaryrepoWith(join(work.path, `br-${seq++}`), { name: 'crates', format: 'cargo', type: 'remote', upstream: { url: `${upstream}/index` } });
const proxyCache = async (upstream: string): Promise<Cache> => {
  const n = await startProxyCacheNginx(upstream, join(work.path, `pc-${seq++}`), { rewriteOrigin: upstream });
  return { url: `${n.url}/index`, pid: n.child.pid, stop: () => n.stop() };
};
const indexOf = (c: Cache): string => (c.url.endsWith('/index') ? `${c.url}/` : `${c.url}/index/`);

// --- 1. fetches ------------------------------------------------------------------------------------
const { times, rec } = roundTimes();
let warmIndex: Cache | undefined;
for (const link of links) {
  // The upstream's config.json names the link's relay, so every download goes through the link too.
  await writeRegistryConfig(tree, link.relay.url);
  for (let round = 0; round < ROUNDS; round++) {
    const key = (c: string): string => `${link.name}|${c}`;
    const cached = (label: string, start: (u: string) => Promise<Cache>) => async () => {
      const c = await start(link.relay.url);
      try {
        await coldWarmRuns(rec, key, round, { label, what: 'fetch', relay: link.relay }, (first) => (first ? fetchAll(indexOf(c), 'w') : fetchAll(indexOf(c))));
      } finally {
        await noteRss(label, c.pid);
        if (label === 'binaryrepo' && !warmIndex && link === links[0]) warmIndex = c;
        else await c.stop();
      }
    };
    await inShuffledOrder([
      async () => {
        link.relay.reset();
        rec(key('upstream direct'), round, await fetchAll(`${link.relay.url}/index/`));
        rec(key('upstream direct, upstream GETs cold'), round, link.relay.count('GET', '/'));
      },
      cached('binaryrepo', binaryrepo),
      cached('nginx proxy_cache', proxyCache),
    ]);
    log(`cargo: ${link.name}, round ${round + 1}/${ROUNDS} done`);
  }
}

// --- 2. index files of the warm remote ---------------------------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 20 });
const base = warmIndex ? indexOf(warmIndex) : '';
const small = await loadGets(`${base}${indexPathOf('c-crate-7')}`, {}, 20, LOAD_MS, agent);
const big = await loadGets(`${base}${indexPathOf('c-crate-0')}`, { 'accept-encoding': 'gzip' }, 20, LOAD_MS, agent);
agent.destroy();
await warmIndex?.stop();

// --- 3. publish to visible -----------------------------------------------------------------------------
const ldir = join(work.path, 'local');
await mkdir(ldir, { recursive: true });
const ls = await startProcessServer('node', { storage: { type: 'fs', path: join(ldir, 'data') }, log: { requests: false }, repos: [{ name: 'corp', format: 'cargo', type: 'local' }] }, ldir, { compiled: true });
const visible: number[] = [];
for (let i = 0; i < (quick ? 10 : 40); i++) {
  const vers = `0.${i}.0`;
  const body = publishFrame({ name: 'corp-lib', vers, deps: [] }, await crateFile({ name: 'corp-lib', vers, padding: 20_000 }));
  const t = performance.now();
  const r = await fetch(`${ls.url}/repo/corp/api/v1/crates/new`, { method: 'PUT', body });
  if (r.status !== 200) throw new Error(`publish ${r.status}: ${await r.text()}`);
  for (;;) {
    const idx = await fetch(`${ls.url}/repo/corp/index/${indexPathOf('corp-lib')}`);
    if ((await idx.text()).includes(`"vers":"${vers}"`)) break;
  }
  visible.push(performance.now() - t);
}
await noteRss('binaryrepo (hosted)', ls.child.pid);
await ls.stop();

// --- report --------------------------------------------------------------------------------------------
const tables = links.map((link) => ratioTable(times, link.name, ['upstream direct', 'binaryrepo, first fetch of a fresh process', 'binaryrepo, cold', 'binaryrepo, warm', 'nginx proxy_cache, first fetch of a fresh process', 'nginx proxy_cache, cold', 'nginx proxy_cache, warm'], ROUNDS));
const sorted = [...visible].sort((a, b) => a - b);
const cargoVersion = (await cargo(['--version'], { cwd: work.path, home: join(work.path, 'h-version') })).out.trim();
console.log(`## Cargo — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. ${cargoVersion}, nginx 1.22 (upstream and proxy_cache peer), binaryrepo on Node ${process.versions.node} (compiled dist/). Rounds shuffled with seed ${seed}.
The registry: ${N} crates with 1 to 40 versions (one with 500), ${(bytes / 1e6).toFixed(1)} MB of .crate files in the lock; \`cargo fetch --locked\` with a fresh CARGO_HOME each run (crates.io replaced by the candidate). Each fresh cache first fetches a lock of the same shapes over other crates (its own row), so the cold row is a miss as a running server meets it. nginx proxy_cache keeps index files for a day without revalidating (binaryrepo revalidates after its TTL, 300 s here): the peer's warm row asks the upstream nothing, and would serve a yanked version as unyanked for that day. kellnr and panamax are not run (see the top of bench/cargo.ts).

${tables.join('\n')}
Index files of a warm remote, 20 concurrent clients for ${LOAD_MS / 1000} s each: a small file p50 ${pct(small.lat, 50).toFixed(2)} ms, p95 ${pct(small.lat, 95).toFixed(2)} ms, ${(small.lat.length / (LOAD_MS / 1000)).toFixed(0)} req/s, ${small.errors} errors; the 500-version file (gzip) p50 ${pct(big.lat, 50).toFixed(2)} ms, p95 ${pct(big.lat, 95).toFixed(2)} ms, ${(big.lat.length / (LOAD_MS / 1000)).toFixed(0)} req/s, ${big.errors} errors.

Publish to visible (PUT /api/v1/crates/new of a 20 KB crate, then the index polled until it lists the version), ${visible.length} publishes: median ${median(visible).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? Number.NaN).toFixed(1)} ms.

Peak RSS (VmHWM): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ')}.
`);
for (const l of links) await l.relay.close();
await origin.stop();
await work.cleanup();
