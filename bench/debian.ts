// The Debian section of `make bench` (issue 29). The upstream is nginx over an archive the bench
// builds with dpkg-deb and apt-ftparchive (signed by gpg, Acquire-By-Hash), behind the counting
// relay (unshaped and, in the full run, shaped like the internet). In shuffled rounds:
// 1. `apt-get update` + `apt-get install --download-only` of a 50-package closure with a fresh apt
//    state each run: straight from the upstream, through a binaryrepo remote (cold, then warm),
//    through apt-cacher-ng (Debian's package, as an HTTP proxy; cold, then warm).
// 2. Publishing debs into a signed suite of a hosted repo: sequential uploads, then the signed
//    InRelease fetched once it lists them, with the server's peak RSS.
// aptly is not run beside the publish: it is not in this machine's package lists.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { aptRoot, archiveKey, buildDeb, writeArchive } from '../test/helpers/debian.ts';
import { createServer } from 'node:net';
import { startStaticNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { startRelay } from '../test/helpers/relay.ts';
import type { Relay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { binaryrepoWith, coldWarmRuns, ratioTable, roundTimes } from './caches.ts';
import type { Cache } from './caches.ts';
import { peakRssMb } from './memory.ts';
import { inShuffledOrder, rng, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const N = 50;
const ROUNDS = quick ? 1 : 3;
const PUBLISH = Number(process.argv.find((a) => a.startsWith('--publish='))?.slice(10) ?? (quick ? 200 : 1000));
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const sh = promisify(execFile);
const work = await tempDir('bench-debian-');
let seq = 0;
const rss: Record<string, number> = {};
const noteRss = async (who: string, pid: number | undefined): Promise<void> => {
  if (pid) rss[who] = Math.max(rss[who] ?? 0, await peakRssMb(pid).catch(() => 0));
};

// --- the upstream archive: a measured closure and a warm-up closure of the same shapes ---------------
const key = await archiveKey(work.path);
const debDir = join(work.path, 'debs');
const debs: string[] = [];
let bytes = 0;
for (const pre of ['c', 'w']) {
  for (let i = 1; i < N; i++) {
    // Sizes as in Debian's pool: log-normal around 150 KB, a few of several MB.
    const payload = Math.min(8 << 20, Math.round(Math.exp(Math.log(150_000) + 1.2 * (rng() + rng() + rng() - 1.5) * 1.5)));
    debs.push(await buildDeb(debDir, { name: `${pre}-pkg-${i}`, version: `1.${i}-1`, payload, compression: 'gzip' }));
    if (pre === 'c') bytes += payload;
  }
  debs.push(await buildDeb(debDir, { name: `${pre}-root`, version: '1.0', depends: Array.from({ length: N - 1 }, (_, i) => `${pre}-pkg-${i + 1}`).join(', ') }));
}
const tree = join(work.path, 'tree');
await writeArchive(join(tree, 'debian'), 'stable', debs, key, { byHash: true });
const origin = await startStaticNginx(tree, work.path);
// The relays listen below 32768: apt-cacher-ng 3.7 reads port numbers as signed 16-bit (see aptCacherNg).
const links: Array<{ name: string; relay: Relay }> = [{ name: 'unshaped', relay: await startRelay(origin.url, { port: await freePortBelow(32768) }) }];
if (!quick) links.push({ name: 'shaped 30 ms / 200 Mbit/s', relay: await startRelay(origin.url, { latencyMs: 30, bytesPerSecond: 25e6, port: await freePortBelow(32768) }) });
log(`debian: ${N}-package closures, ${(bytes / 1e6).toFixed(1)} MB of payload per install`);

/** apt-get update and install --download-only of a closure, fresh apt state; via a proxy for apt-cacher-ng. */
async function install(base: string, set: string, proxy?: string): Promise<number> {
  const a = await aptRoot(join(work.path, `apt-${seq++}`), `deb [signed-by=${key.pub}] ${base} stable main`);
  if (proxy) await writeFile(join(a.dir, 'etc/apt/apt.conf.d/proxy'), `Acquire::http::Proxy "${proxy}";\n`);
  const t = performance.now();
  const u = await a.apt(['update']);
  if (u.code !== 0 || /^(W|E): /m.test(u.out)) throw new Error(`apt-get update via ${base}: ${u.out.slice(-2000)}`);
  const i = await a.apt(['install', '--download-only', `${set}-root`]);
  if (i.code !== 0) throw new Error(`apt-get install via ${base}: ${i.out.slice(-2000)}`);
  const ms = performance.now() - t;
  const got = await a.archives();
  if (got.length !== N) throw new Error(`${got.length} debs downloaded, expected ${N}`);
  return ms;
}

async function freePortBelow(max: number): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * (max - 20000));
    const ok = await new Promise<boolean>((res) => {
      const srv = createServer();
      srv.once('error', () => res(false));
      srv.listen(p, '127.0.0.1', () => srv.close(() => res(true)));
    });
    if (ok) return p;
  }
}

async function aptCacherNg(relayPort: number): Promise<Cache & { proxy: string }> {
  const dir = join(work.path, `acng-${seq++}`);
  await mkdir(join(dir, 'cache'), { recursive: true });
  await mkdir(join(dir, 'log'), { recursive: true });
  // apt-cacher-ng 3.7 takes its port as a signed 16-bit number: 32768 and up fail to bind.
  const port = await freePortBelow(32768);
  const { spawn } = await import('node:child_process');
  const child = spawn('/usr/sbin/apt-cacher-ng', ['-c', '/etc/apt-cacher-ng', 'ForeGround=1', `Port=${port}`, 'BindAddress=127.0.0.1', `CacheDir=${dir}/cache`, `LogDir=${dir}/log`, `PidFile=${dir}/pid`, `SocketPath=/tmp/acng-${process.pid}-${seq}.sock`, `AllowUserPorts=${relayPort}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Its socket path must be short (a Unix socket's limit), hence /tmp.
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      async (r) => {
        await r.body?.cancel();
        return true;
      },
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error('apt-cacher-ng did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: '',
    proxy: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

// --- 1. installs ----------------------------------------------------------------------------------------
const { times, rec } = roundTimes();
for (const link of links) {
  const port = Number(new URL(link.relay.url).port);
  for (let round = 0; round < ROUNDS; round++) {
    const key2 = (c: string): string => `${link.name}|${c}`;
    const cached = (label: string, start: () => Promise<Cache & { proxy?: string }>) => async () => {
      const c = await start();
      const base = c.proxy ? `${link.relay.url}/debian` : c.url;
      try {
        await coldWarmRuns(rec, key2, round, { label, what: 'install', relay: link.relay }, (first) => install(base, first ? 'w' : 'c', c.proxy));
      } finally {
        await noteRss(label, c.pid);
        await c.stop();
      }
    };
    await inShuffledOrder([
      async () => {
        link.relay.reset();
        rec(key2('upstream direct'), round, await install(`${link.relay.url}/debian`, 'c'));
        rec(key2('upstream direct, upstream GETs cold'), round, link.relay.count('GET', '/'));
      },
      cached('binaryrepo', () => binaryrepoWith(join(work.path, `br-${seq++}`), { name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${link.relay.url}/debian` } })),
      cached('apt-cacher-ng', () => aptCacherNg(port)),
    ]);
    log(`debian: ${link.name}, round ${round + 1}/${ROUNDS} done`);
  }
}

// --- 2. publishing into a signed suite --------------------------------------------------------------------
const pdir = join(work.path, 'publish');
await mkdir(pdir, { recursive: true });
const pubDebs: Uint8Array[] = [];
for (let i = 0; i < PUBLISH; i++) pubDebs.push(await readFile(await buildDeb(join(pdir, 'debs'), { name: `corp-${i}`, version: `1.0.${i}`, payload: 2000, compression: 'gzip' })));
const ps = await startProcessServer('node', { storage: { type: 'fs', path: join(pdir, 'data') }, log: { requests: false }, repos: [{ name: 'corp', format: 'debian', type: 'local', architectures: ['amd64'] }] }, pdir, { compiled: true });
const t0 = performance.now();
for (const body of pubDebs) {
  const r = await fetch(`${ps.url}/repo/corp/upload/stable/main`, { method: 'PUT', body });
  if (r.status !== 201) throw new Error(`upload ${r.status}: ${await r.text()}`);
}
const uploaded = performance.now() - t0;
const inRelease = await (await fetch(`${ps.url}/repo/corp/dists/stable/InRelease`)).text();
const packages = await (await fetch(`${ps.url}/repo/corp/dists/stable/main/binary-amd64/Packages`)).text();
const published = performance.now() - t0;
if (!inRelease.includes('BEGIN PGP SIGNATURE') || (packages.match(/^Package: /gm)?.length ?? 0) !== PUBLISH) throw new Error('the suite does not list every upload');
await noteRss('binaryrepo (hosted, publishing)', ps.child.pid);
await ps.stop();

// --- report ---------------------------------------------------------------------------------------------------
const tables = links.map((link) => ratioTable(times, link.name, ['upstream direct', 'binaryrepo, first install of a fresh process', 'binaryrepo, cold', 'binaryrepo, warm', 'apt-cacher-ng, first install of a fresh process', 'apt-cacher-ng, cold', 'apt-cacher-ng, warm'], ROUNDS));
const apt = (await sh('apt-get', ['--version'])).stdout.split('\n')[0] ?? 'apt';
const acng = (await sh('dpkg-query', ['-W', '-f', '${Version}', 'apt-cacher-ng']).catch(() => ({ stdout: '?' }))).stdout;
console.log(`## Debian — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. ${apt}, apt-cacher-ng ${acng} (as apt's HTTP proxy), nginx 1.22 (upstream), binaryrepo on Node ${process.versions.node} (compiled dist/). Rounds shuffled with seed ${seed}.
The archive: ${2 * N} packages built by dpkg-deb, indexed by apt-ftparchive, signed by gpg, by-hash; each run is \`apt-get update\` + \`apt-get install --download-only\` of a ${N}-package closure (${(bytes / 1e6).toFixed(1)} MB) with a fresh apt state. Each fresh cache first installs a closure of the same shapes over other packages (its own row), so the cold row is a miss as a running server meets it. The archive's indexes are small (one component, ${2 * N} packages): Debian's own Packages.xz is ~10 MB, where a cache's by-hash handling and index revalidation weigh more.

${tables.join('\n')}
Publishing ${PUBLISH} debs (2 KB payload each) one after another into a signed suite: uploads ${(uploaded / 1000).toFixed(1)} s (${(uploaded / PUBLISH).toFixed(1)} ms each on average), then the signed InRelease and Packages listing all of them ${((published - uploaded) / 1000).toFixed(2)} s later; ${(published / 1000).toFixed(1)} s in all.

Peak RSS (VmHWM): ${Object.entries(rss).map(([k, v]) => `${k} ${v.toFixed(0)} MB`).join(', ')}.
`);
for (const l of links) await l.relay.close();
await origin.stop();
await work.cleanup();
