// The Go section of `make bench`: `go mod download` of a generated module set (300 modules, three
// of them with 20 MB zips; the rest small, as most of a real graph is) straight from the upstream GOPROXY tree (nginx, behind the counting
// relay) and through a binaryrepo Go remote repo, cold then warm, in rounds whose candidate order is
// shuffled; ratios within a round, then the median. Athens is the peer the issue names: it is tried
// with `go install` and reported as unavailable when the module proxy refuses it.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { writeProxyTree } from '../test/helpers/gomod.ts';
import type { ModuleVersion } from '../test/helpers/gomod.ts';
import { run } from '../test/helpers/net.ts';
import { startStaticNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { startRelay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { cpuSeconds } from './cpu.ts';
import { inShuffledOrder, median, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const rounds = quick ? 2 : 3;
const MODULES = quick ? 60 : 300;
const BIG = quick ? 1 : 3;

const log = (s: string): boolean => process.stderr.write(`${s}\n`);

const work = await tempDir('bench-go-');
const mods: ModuleVersion[] = [];
for (let i = 0; i < MODULES; i++) {
  const path = `bench.example/m${i}`;
  const files: Record<string, string> = { 'go.mod': `module ${path}\n\ngo 1.21\n`, 'm.go': `package m${i}\n\nfunc N() int { return ${i} }\n` };
  // A few modules carry a large (incompressible) asset, as real modules with test data do.
  if (i < BIG) files['testdata/blob.txt'] = randomBytes(15 * 1024 * 1024).toString('base64');
  mods.push({ path, version: 'v1.0.0', files });
}
await writeProxyTree(join(work.path, 'tree'), mods);
const ngx = await startStaticNginx(join(work.path, 'tree'), work.path);
const relay = await startRelay(ngx.url);
const app = join(work.path, 'app');
await mkdir(app, { recursive: true });
await writeFile(join(app, 'go.mod'), `module bench.example/app\n\ngo 1.21\n\nrequire (\n${mods.map((m) => `\t${m.path} ${m.version}\n`).join('')})\n`);

let homes = 0;
async function download(proxy: string): Promise<number> {
  const home = join(work.path, `home-${homes++}`);
  const t0 = performance.now();
  const r = await run('go', ['mod', 'download'], {
    cwd: app,
    timeoutMs: 600_000,
    env: { ...process.env, HOME: home, GOPATH: join(home, 'gopath'), GOMODCACHE: join(home, 'mod'), GOCACHE: join(home, 'cache'), GOPROXY: proxy, GOSUMDB: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOTELEMETRY: 'off' },
  });
  if (r.code !== 0) throw new Error(`go mod download via ${proxy} failed: ${r.stderr}`);
  return performance.now() - t0;
}

const athens = await run('go', ['install', 'github.com/gomods/athens/cmd/proxy@latest'], { timeoutMs: 300_000, env: { ...process.env, GOPATH: join(work.path, 'athens'), GOTOOLCHAIN: 'local' } });
const athensNote = athens.code === 0 ? 'Athens installed but not wired in yet' : `Athens could not be installed here: ${athens.stderr.trim().split('\n')[0] ?? ''}`;
log(athensNote);

const direct: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
const upstreamGets: number[] = [];
// The server's CPU seconds per download (every thread): the go command opens many connections at
// once, and that is where small-file costs show (issue 24, C).
const coldCpu: number[] = [];
const warmCpu: number[] = [];
for (let r = 0; r < rounds; r++) {
  const tasks = [
    async () => void direct.push(await download(relay.url)),
    async () => {
      const dir = join(work.path, `br-${r}`);
      await mkdir(dir, { recursive: true });
      const srv = await startProcessServer('node', { storage: { type: 'fs', path: join(dir, 'data') }, log: { requests: false }, repos: [{ name: 'go', format: 'go', type: 'remote', upstream: { url: relay.url } }] }, dir, { compiled: true });
      try {
        relay.reset();
        const pid = srv.child.pid ?? 0;
        let c0 = await cpuSeconds(pid);
        cold.push(await download(`${srv.url}/repo/go`));
        coldCpu.push((await cpuSeconds(pid)) - c0);
        upstreamGets.push(relay.count('GET', '/bench.example/'));
        c0 = await cpuSeconds(pid);
        warm.push(await download(`${srv.url}/repo/go`));
        warmCpu.push((await cpuSeconds(pid)) - c0);
      } finally {
        await srv.stop();
      }
    },
  ];
  await inShuffledOrder(tasks);
  log(`go: round ${r + 1}/${rounds} done`);
}
const ratio = (xs: number[]): string => median(xs.map((x, i) => x / (direct[i] ?? Number.NaN))).toFixed(2);
const goVersion = (await run('go', ['version'])).stdout.trim();
console.log(`## Go modules: \`go mod download\` of ${MODULES} modules (${BIG} with 20 MB zips) — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. ${goVersion}; binaryrepo on Node ${process.versions.node} (compiled dist/). Upstream: a GOPROXY file tree served by nginx behind a counting relay. ${rounds} rounds, order shuffled (seed ${seed}); ms are medians, ratios medians of per-round ratios. ${athensNote}.

| candidate | ms | ÷ direct | server CPU-s | upstream GETs (cold) |
| --- | ---: | ---: | ---: | ---: |
| upstream direct | ${median(direct).toFixed(0)} | 1.00 | | |
| binaryrepo, cold | ${median(cold).toFixed(0)} | ${ratio(cold)} | ${median(coldCpu).toFixed(2)} | ${median(upstreamGets)} (the set is ${MODULES * 3} files: .info, .mod, .zip per module) |
| binaryrepo, warm | ${median(warm).toFixed(0)} | ${ratio(warm)} | ${median(warmCpu).toFixed(2)} | |
`);
await relay.close();
await ngx.stop();
await work.cleanup();
