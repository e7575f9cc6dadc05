// The npm section of `make bench` (issue 25). A real Verdaccio is the upstream registry (behind the
// counting relay, unshaped and, in the full run, shaped like the internet); the graph of packages is
// published to it first. Then, in shuffled rounds with ratios per round:
// 1. `npm ci` and `pnpm install --frozen-lockfile` of the graph's lockfile, empty client caches:
//    straight from the upstream, through a binaryrepo remote (cold, then warm), through a second
//    Verdaccio proxying the same upstream (cold, then warm).
// 2. The full packument of a package with many versions under 20 concurrent clients (gzip), warm.
// 3. Tarball GETs with Accept-Encoding: gzip at 20 connections (wrk), warm.
// Peak RSS of each server process is read from /proc at the end of its life.
import { cp, mkdir } from 'node:fs/promises';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/net.ts';
import { npm, npmHome, runClient, startVerdaccio, toolPath, writePackage } from '../test/helpers/npm.ts';
import { startRelay } from '../test/helpers/relay.ts';
import type { Relay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { binaryrepoWith, roundTimes } from './caches.ts';
import type { Cache } from './caches.ts';
import { peakRssMb } from './memory.ts';
import { loadGets, pct, plan, publishGraph, publishMany } from './npm-graph.ts';
import { wrk } from './small.ts';
import { inShuffledOrder, median, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const N = quick ? 150 : 1000;
const VERSIONS = quick ? 300 : 2000;
const ROUNDS = quick ? 2 : 3;
const LOAD_MS = quick ? 5000 : 10_000;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const work = await tempDir('bench-npm-');
let seq = 0;
const rss: Record<string, number> = {};
const noteRss = async (who: string, pid: number | undefined): Promise<void> => {
  if (pid) rss[who] = Math.max(rss[who] ?? 0, await peakRssMb(pid).catch(() => 0));
};

// --- the upstream and its packages --------------------------------------------------------------
const originDir = join(work.path, 'origin');
const portU = await freePort();
const relayU = await startRelay(`http://127.0.0.1:${portU}`);
const origin = await startVerdaccio(originDir, { port: portU, publicUrl: relayU.url });
const { packages, roots } = plan(N);
const t0 = performance.now();
const published = await publishGraph(origin.url, origin.token, packages);
await publishMany(origin.url, origin.token, 'big-pkg', VERSIONS, 200_000);
log(`npm: published ${N} packages (${(published / 1e6).toFixed(1)} MB of tarballs) and ${VERSIONS} versions of big-pkg in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
const links: Array<{ name: string; relay: Relay; stop?: () => Promise<void> }> = [{ name: 'unshaped', relay: relayU }];
if (!quick) {
  // The same storage served by a second Verdaccio behind a shaped relay (30 ms, 200 Mbit/s).
  const portS = await freePort();
  const relayS = await startRelay(`http://127.0.0.1:${portS}`, { latencyMs: 30, bytesPerSecond: 25e6 });
  const shaped = await startVerdaccio(originDir, { port: portS, publicUrl: relayS.url, storage: join(originDir, 'storage'), configName: 'config-shaped.yaml' });
  links.push({ name: 'shaped 30 ms / 200 Mbit/s', relay: relayS, stop: async () => (await shaped.stop(), await relayS.close()) });
}

// --- lockfiles made against the upstream, as a team's repository holds them ----------------------
const app = join(work.path, 'app');
await writePackage(app, { name: 'bench-app', version: '1.0.0', dependencies: Object.fromEntries(roots.map((r) => [r, packages.find((p) => p.name === r)?.version ?? '*'])) });
const pnpm = await toolPath('pnpm');
const lockHome = await npmHome(join(work.path, 'lock-home'), `${relayU.url}/`);
const l1 = await npm(['install', '--package-lock-only', '--ignore-scripts', '--no-audit'], { cwd: app, home: lockHome });
if (l1.code !== 0) throw new Error(l1.stderr);
const l2 = await runClient(pnpm, ['install', '--lockfile-only', '--ignore-scripts'], { cwd: app, home: lockHome, timeoutMs: 600_000 });
if (l2.code !== 0) throw new Error(l2.stderr);

type Client = 'npm ci' | 'pnpm --frozen-lockfile';
async function install(client: Client, registry: string): Promise<number> {
  const dir = join(work.path, `run-${seq++}`);
  await mkdir(dir, { recursive: true });
  for (const f of ['package.json', client === 'npm ci' ? 'package-lock.json' : 'pnpm-lock.yaml']) await cp(join(app, f), join(dir, f));
  const home = await npmHome(join(dir, 'home'), registry);
  const t = performance.now();
  const r =
    client === 'npm ci'
      ? await npm(['ci', '--ignore-scripts', '--no-audit', '--replace-registry-host=127.0.0.1'], { cwd: dir, home })
      : await runClient(pnpm, ['install', '--frozen-lockfile', '--ignore-scripts'], { cwd: dir, home, timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`${client} via ${registry}: ${r.stderr.slice(-2000)}`);
  return performance.now() - t;
}

const binaryrepo = async (upstream: string): Promise<Cache> => {
  const c = await binaryrepoWith(join(work.path, `br-${seq++}`), { name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: upstream } });
  return { ...c, url: `${c.url}/` };
};
const verdaccioProxy = async (upstream: string): Promise<Cache> => {
  const v = await startVerdaccio(join(work.path, `vp-${seq++}`), { uplink: upstream });
  return { url: `${v.url}/`, pid: v.child.pid, stop: () => v.stop() };
};

// --- 1. installs ----------------------------------------------------------------------------------
const { times, rec } = roundTimes();
for (const link of links) {
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of ['npm ci', 'pnpm --frozen-lockfile'] as const) {
      const key = (c: string): string => `${link.name}|${client}|${c}`;
      const cached = (label: string, start: (u: string) => Promise<Cache>) => async () => {
        const c = await start(link.relay.url);
        try {
          link.relay.reset();
          rec(key(`${label}, cold`), round, await install(client, c.url));
          rec(key(`${label}, upstream tarball GETs`), round, link.relay.count('GET', '.tgz'));
          rec(key(`${label}, warm`), round, await install(client, c.url));
        } finally {
          await noteRss(label, c.pid);
          await c.stop();
        }
      };
      await inShuffledOrder([async () => rec(key('upstream direct'), round, await install(client, `${link.relay.url}/`)), cached('binaryrepo', binaryrepo), cached('Verdaccio proxy', verdaccioProxy)]);
      log(`npm: ${link.name}, ${client}, round ${round + 1}/${ROUNDS} done`);
    }
  }
}

// --- 2. and 3. the big packument and tarball rates, warm -------------------------------------------
const agent = new Agent({ keepAlive: true, maxSockets: 20 });
const small = packages.find((p) => p.bytes > 8000 && p.bytes < 20_000 && !p.name.startsWith('@')) ?? packages[0];
if (!small) throw new Error('no package to fetch');
const tarPath = `${small.name}/-/${small.name}-${small.version}.tgz`;
const loads: Array<{ who: string; p50: number; p95: number; p99: number; rps: number; kb: number; errors: number }> = [];
const tarRates: Array<{ who: string; rps: number; p99: number; errors: number }> = [];
const gzipJson = { accept: 'application/json', 'accept-encoding': 'gzip' };
for (const [who, start] of [['upstream Verdaccio (hosting it)', null], ['binaryrepo remote', binaryrepo], ['Verdaccio proxy', verdaccioProxy]] as const) {
  const c = start ? await start(relayU.url) : { url: `${origin.url}/`, pid: origin.child.pid, stop: async () => {} };
  try {
    for (const path of ['big-pkg', tarPath]) await (await fetch(`${c.url}${path}`, { headers: gzipJson })).arrayBuffer();
    const r = await loadGets(`${c.url}big-pkg`, gzipJson, 20, LOAD_MS, agent);
    loads.push({ who, p50: pct(r.lat, 50), p95: pct(r.lat, 95), p99: pct(r.lat, 99), rps: r.lat.length / (LOAD_MS / 1000), kb: r.bytes / Math.max(1, r.lat.length) / 1024, errors: r.errors });
    const [row] = await wrk(who, c.url, [{ label: 'tarball', method: 'GET', path: tarPath }], quick ? 5 : 10, work.path, c.pid, { 'Accept-Encoding': 'gzip' }, 20);
    if (row) tarRates.push({ who, rps: row.rps, p99: row.p99ms, errors: row.errors });
  } finally {
    if (start) await noteRss(who === 'binaryrepo remote' ? 'binaryrepo' : 'Verdaccio proxy', c.pid);
    await c.stop();
  }
  log(`npm: load on ${who} done`);
}
agent.destroy();

// --- report ----------------------------------------------------------------------------------------
const direct = (link: string, client: string): number[] => times.get(`${link}|${client}|upstream direct`) ?? [];
const ratio = (xs: number[], d: number[]): string => median(xs.map((x, i) => x / (d[i] ?? Number.NaN))).toFixed(2);
const npmVersion = (await npm(['--version'], { cwd: work.path, home: lockHome })).stdout.trim();
const pnpmVersion = (await runClient(pnpm, ['--version'], { cwd: work.path, home: lockHome })).stdout.trim();
const installTables = links.map((link) =>
  ['npm ci', 'pnpm --frozen-lockfile'].map((client) => {
    const d = direct(link.name, client);
    const row = (label: string): string => {
      const xs = times.get(`${link.name}|${client}|${label}`) ?? [];
      const gets = label.endsWith('cold') ? median(times.get(`${link.name}|${client}|${label.replace(', cold', ', upstream tarball GETs')}`) ?? []) : Number.NaN;
      return `| ${label} | ${median(xs).toFixed(0)} | ${label === 'upstream direct' ? '1.00' : ratio(xs, d)} | ${Number.isNaN(gets) ? '' : `${gets} of ${N}`} |`;
    };
    return `${link.name}, \`${client}\` (ms, medians of ${ROUNDS} rounds; ratios per round):\n\n| candidate | ms | ÷ direct | upstream tarball GETs |\n| --- | ---: | ---: | ---: |\n${['upstream direct', 'binaryrepo, cold', 'binaryrepo, warm', 'Verdaccio proxy, cold', 'Verdaccio proxy, warm'].map(row).join('\n')}\n`;
  }).join('\n'),
).join('\n');
console.log(`## npm — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. npm ${npmVersion}, pnpm ${pnpmVersion}, Verdaccio 6.8.0 (upstream and peer), binaryrepo on Node ${process.versions.node} (compiled dist/). Rounds shuffled with seed ${seed}.
The graph: ${N} packages (a tenth scoped), ${(published / 1e6).toFixed(1)} MB of tarballs, up to four dependencies each; every install starts with an empty client cache.

${installTables}
Full packument of big-pkg (${VERSIONS} versions, 200 KB readme), 20 concurrent clients for ${LOAD_MS / 1000} s, \`Accept: application/json\`, \`Accept-Encoding: gzip\`, warm:

| server | p50 ms | p95 ms | p99 ms | req/s | KB per answer | errors |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${loads.map((l) => `| ${l.who} | ${l.p50.toFixed(1)} | ${l.p95.toFixed(1)} | ${l.p99.toFixed(1)} | ${l.rps.toFixed(0)} | ${l.kb.toFixed(0)} | ${l.errors} |`).join('\n')}

Tarball GETs (${tarPath}, ${small.bytes} B planned), wrk, 20 connections, \`Accept-Encoding: gzip\`, warm:

| server | req/s | p99 ms | errors |
| --- | ---: | ---: | ---: |
${tarRates.map((t) => `| ${t.who} | ${t.rps.toFixed(0)} | ${t.p99.toFixed(1)} | ${t.errors} |`).join('\n')}

Peak RSS (VmHWM, the highest of its processes in this run): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ')}.
`);
for (const l of links) await l.stop?.();
await origin.stop();
await relayU.close();
await work.cleanup();
