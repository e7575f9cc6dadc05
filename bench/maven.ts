// The Maven section of `make bench` (issue 27). The upstream is nginx over a Maven repository tree
// (the pinned plugins of the seed, plus a generated graph of artifacts with realistic jar sizes, each
// with its pom, .sha1, .md5 and metadata), behind the counting relay (unshaped and, in the full run,
// shaped like the internet). In shuffled rounds, with ratios per round:
// 1. `mvn -B verify` of a project that depends on the graph's roots, each run with an empty local
//    repository: straight from the upstream, through a binaryrepo remote (cold, then warm), through
//    nginx proxy_cache in front of the same upstream (cold, then warm).
// 2. A virtual repo's merged maven-metadata.xml over 5 hosted members, 20 concurrent clients, warm.
// Peak RSS of each server process is read from /proc at the end of its life.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { zipStored } from '../test/helpers/gomod.ts';
import { MAVENS, mvn, seedTree, writeProject, writeSettings } from '../test/helpers/maven.ts';
import { startProxyCacheNginx, startStaticNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { startRelay } from '../test/helpers/relay.ts';
import type { Relay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { binaryrepoWith, coldWarmRuns, ratioTable, roundTimes } from './caches.ts';
import type { Cache } from './caches.ts';
import { peakRssMb } from './memory.ts';
import { loadGets, pct } from './npm-graph.ts';
import { inShuffledOrder, rng, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const N = quick ? 60 : 200;
const ROUNDS = quick ? 1 : 3;
const LOAD_MS = quick ? 4000 : 10_000;
const MVN = MAVENS[1] ?? MAVENS[0];
if (!MVN) throw new Error('no Maven');
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const work = await tempDir('bench-maven-');
let seq = 0;
const rss: Record<string, number> = {};
const noteRss = async (who: string, pid: number | undefined): Promise<void> => {
  if (pid) rss[who] = Math.max(rss[who] ?? 0, await peakRssMb(pid).catch(() => 0));
};

// --- the upstream tree -----------------------------------------------------------------------------
const tree = join(work.path, 'tree');
await seedTree(tree);
const hex = (alg: string, b: Uint8Array | string): string => createHash(alg).update(b).digest('hex');
async function put(path: string, body: Uint8Array | string): Promise<void> {
  const p = join(tree, path);
  await mkdir(p.slice(0, p.lastIndexOf('/')), { recursive: true });
  await writeFile(p, body);
  await writeFile(`${p}.sha1`, hex('sha1', body));
  await writeFile(`${p}.md5`, hex('md5', body));
}
const coords = (i: number, pre = 'org.bench'): { g: string; a: string; v: string } => ({ g: `${pre}.g${i % 10}`, a: `art${i}`, v: `1.${i % 5}.0` });
const deps = new Map<number, number[]>();
const dependedOn = new Set<number>();
for (let i = 0; i < N; i++) {
  const ds: number[] = [];
  for (let k = 0; k < 3; k++) {
    const j = i + 1 + Math.floor(rng() * 40);
    if (j < N && rng() < 0.6 && !ds.includes(j)) ds.push(j);
  }
  deps.set(i, ds);
  for (const j of ds) dependedOn.add(j);
}
let bytes = 0;
// The measured graph, and one of the same shapes under another group: each fresh cache resolves that first, so the measured
// cold build is a miss as a running server meets it (the first build of a fresh process is reported on its own).
for (const pre of ['org.bench', 'org.warmup']) for (let i = 0; i < N; i++) {
  const { g, a, v } = coords(i, pre);
  const dir = `${g.replace(/\./g, '/')}/${a}`;
  const depXml = (deps.get(i) ?? []).map((j) => `<dependency><groupId>${coords(j, pre).g}</groupId><artifactId>${coords(j, pre).a}</artifactId><version>${coords(j, pre).v}</version></dependency>`).join('');
  await put(`${dir}/${v}/${a}-${v}.pom`, `<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version><dependencies>${depXml}</dependencies></project>\n`);
  // Jar sizes as on Maven Central: log-normal around 40 KB, a few of several MB.
  const size = Math.min(4 << 20, Math.round(Math.exp(Math.log(40_000) + 1.4 * (rng() + rng() + rng() - 1.5) * 1.6)));
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let k = 0; k < words.length; k++) words[k] = (rng() * 2 ** 32) >>> 0;
  const jar = zipStored([{ name: `${a}/data.bin`, data: new Uint8Array(words.buffer, 0, size) }]);
  if (pre === 'org.bench') bytes += jar.byteLength;
  await put(`${dir}/${v}/${a}-${v}.jar`, jar);
  await put(`${dir}/maven-metadata.xml`, `<?xml version="1.0"?><metadata><groupId>${g}</groupId><artifactId>${a}</artifactId><versioning><latest>${v}</latest><release>${v}</release><versions><version>${v}</version></versions><lastUpdated>20261201000000</lastUpdated></versioning></metadata>\n`);
}
const roots = Array.from({ length: N }, (_, i) => i).filter((i) => !dependedOn.has(i));
log(`maven: ${N} artifacts, ${(bytes / 1e6).toFixed(1)} MB of jars, ${roots.length} roots`);
const origin = await startStaticNginx(tree, work.path);
const relayU = await startRelay(origin.url);
const links: Array<{ name: string; relay: Relay }> = [{ name: 'unshaped', relay: relayU }];
if (!quick) links.push({ name: 'shaped 30 ms / 200 Mbit/s', relay: await startRelay(origin.url, { latencyMs: 30, bytesPerSecond: 25e6 }) });

const project = join(work.path, 'app');
await writeProject(project, { groupId: 'org.bench', artifactId: 'app', version: '1.0', deps: roots.map((i) => `${coords(i).g}:${coords(i).a}:${coords(i).v}`) });
const warmup = join(work.path, 'warmup');
await writeProject(warmup, { groupId: 'org.warmup', artifactId: 'app', version: '1.0', deps: roots.map((i) => `${coords(i, 'org.warmup').g}:${coords(i, 'org.warmup').a}:${coords(i, 'org.warmup').v}`) });
async function build(mirror: string, dir = project): Promise<number> {
  const n = seq++;
  const settings = await writeSettings(join(work.path, `s-${n}.xml`), { mirror });
  const t = performance.now();
  const r = await mvn(MVN?.bin ?? 'mvn', ['verify'], { cwd: dir, home: join(work.path, `h-${n}`), repo: join(work.path, `m2-${n}`), settings, timeoutMs: 900_000 });
  if (r.code !== 0) throw new Error(`mvn via ${mirror}: ${r.stdout.slice(-3000)}`);
  return performance.now() - t;
}

const binaryrepo = async (upstream: string): Promise<Cache> => {
  return binaryrepoWith(join(work.path, `br-${seq++}`), { name: 'central', format: 'maven', type: 'remote', upstream: { url: upstream } });
};
const proxyCache = async (upstream: string): Promise<Cache> => {
  const n = await startProxyCacheNginx(upstream, join(work.path, `pc-${seq++}`));
  return { url: n.url, pid: n.child.pid, stop: () => n.stop() };
};

// --- 1. builds ---------------------------------------------------------------------------------------
const { times, rec } = roundTimes();
for (const link of links) {
  for (let round = 0; round < ROUNDS; round++) {
    const key = (c: string): string => `${link.name}|${c}`;
    const cached = (label: string, start: (u: string) => Promise<Cache>) => async () => {
      const c = await start(link.relay.url);
      try {
        await coldWarmRuns(rec, key, round, { label, what: 'build', relay: link.relay }, (first) => (first ? build(c.url, warmup) : build(c.url)));
      } finally {
        await noteRss(label, c.pid);
        await c.stop();
      }
    };
    await inShuffledOrder([
      async () => {
        link.relay.reset();
        rec(key('upstream direct'), round, await build(link.relay.url));
        rec(key('upstream direct, upstream GETs cold'), round, link.relay.count('GET', '/'));
      },
      cached('binaryrepo', binaryrepo),
      cached('nginx proxy_cache', proxyCache),
    ]);
    log(`maven: ${link.name}, round ${round + 1}/${ROUNDS} done`);
  }
}

// --- 2. merged metadata of a 5-member virtual, warm ----------------------------------------------------
const vdir = join(work.path, 'virtual');
await mkdir(vdir, { recursive: true });
const members = Array.from({ length: 5 }, (_, i) => `m${i}`);
const vs = await startProcessServer('node', { storage: { type: 'fs', path: join(vdir, 'data') }, log: { requests: false }, repos: [...members.map((name) => ({ name, format: 'maven', type: 'local' })), { name: 'v', format: 'maven', type: 'virtual', members }] }, vdir, { compiled: true });
for (const [i, m] of members.entries()) {
  for (let k = 0; k < 40; k++) {
    const v = `${i}.${k}.0`;
    const r = await fetch(`${vs.url}/repo/${m}/org/bench/multi/${v}/multi-${v}.pom`, { method: 'PUT', body: '<project/>' });
    if (r.status !== 201) throw new Error(`PUT ${r.status}`);
  }
}
const agent = new Agent({ keepAlive: true, maxSockets: 20 });
const mdUrl = `${vs.url}/repo/v/org/bench/multi/maven-metadata.xml`;
const versionsSeen = ((await (await fetch(mdUrl)).text()).match(/<version>/g) ?? []).length;
const md = await loadGets(mdUrl, {}, 20, LOAD_MS, agent);
agent.destroy();
await noteRss('binaryrepo (virtual)', vs.child.pid);
await vs.stop();

// --- report --------------------------------------------------------------------------------------------
const tables = links.map((link) => ratioTable(times, link.name, ['upstream direct', 'binaryrepo, first build of a fresh process', 'binaryrepo, cold', 'binaryrepo, warm', 'nginx proxy_cache, first build of a fresh process', 'nginx proxy_cache, cold', 'nginx proxy_cache, warm'], ROUNDS));
console.log(`## Maven — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. Apache Maven ${MVN.version}, nginx 1.22 (upstream and proxy_cache peer), binaryrepo on Node ${process.versions.node} (compiled dist/). Rounds shuffled with seed ${seed}.
The graph: ${N} artifacts (${(bytes / 1e6).toFixed(1)} MB of jars, log-normal sizes, up to three dependencies each), the project depends on its ${roots.length} roots; \`mvn -B verify\` with an empty local repository each run (plugins resolved the same way; the JVM's start is in every time). Each fresh cache first builds a project of the same shapes under another group (its own row), so the cold row is a miss as a running server meets it; the ratios of that first build are against the same direct build of the measured graph. Mind the plugins: a direct build fetches them every run (the difference in upstream GETs), a cache's cold row has them from its warm-up, so the first-build row is the one to compare a cold cache with end to end.

${tables.join('\n')}
Merged maven-metadata.xml of a virtual over 5 hosted members (${versionsSeen} versions), 20 concurrent clients for ${LOAD_MS / 1000} s, warm: p50 ${pct(md.lat, 50).toFixed(2)} ms, p95 ${pct(md.lat, 95).toFixed(2)} ms, p99 ${pct(md.lat, 99).toFixed(2)} ms, ${(md.lat.length / (LOAD_MS / 1000)).toFixed(0)} req/s, ${md.errors} errors.

Peak RSS (VmHWM): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ')}.
`);
for (const l of links) await l.relay.close();
await origin.stop();
await work.cleanup();
