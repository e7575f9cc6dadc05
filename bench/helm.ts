// The Helm section of `make bench`.
// 1. Scale of a hosted (local) chart repo: upload latency and index.yaml latency at 1k and 10k chart
//    versions, start-up (process start to the first index.yaml) at 10k, and `helm repo update` of a
//    10k-version index served as block YAML vs as JSON.
// 2. `helm pull` of 20 charts (1 MB each) straight from the upstream chart repo (nginx, behind the
//    counting relay) and through a binaryrepo remote repo, cold then warm, in shuffled rounds.
// ChartMuseum is the peer the issue names: tried with `go install`, reported when refused.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { helm, tarGz, writeChart } from '../test/helpers/helm.ts';
import { run } from '../test/helpers/net.ts';
import { startStaticNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { startRelay } from '../test/helpers/relay.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { inShuffledOrder, median, rng, seed } from './stats.ts';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [1000, 2000] : [1000, 10_000];
const rounds = quick ? 2 : 3;
const PULLS = quick ? 8 : 20;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const work = await tempDir('bench-helm-');
const config = (dir: string, repos: unknown[]) => ({ storage: { type: 'fs', path: join(dir, 'data') }, log: { requests: false }, repos });

const chartOf = (i: number): Promise<Uint8Array> =>
  tarGz([
    { name: `c${i % 200}/Chart.yaml`, data: `apiVersion: v2\nname: c${i % 200}\nversion: 1.${Math.floor(i / 200)}.0\ndescription: chart number ${i}\nappVersion: "1.0"\nkeywords: [bench, helm]\nmaintainers:\n  - name: bench\n    email: bench@example.com\n` },
    { name: `c${i % 200}/values.yaml`, data: 'replicas: 1\n' },
  ]);

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

// --- 1. scale ---------------------------------------------------------------------------------
const scaleDir = join(work.path, 'scale');
await mkdir(scaleDir, { recursive: true });
const repoCfg = config(scaleDir, [{ name: 'charts', format: 'helm', type: 'local' }]);
let srv = await startProcessServer('node', repoCfg, scaleDir, { compiled: true });
const upload = async (i: number): Promise<void> => {
  const r = await fetch(`${srv.url}/repo/charts/api/charts`, { method: 'POST', body: await chartOf(i) });
  if (r.status !== 201) throw new Error(`upload ${i}: ${r.status} ${await r.text()}`);
};
const getIndex = async (): Promise<void> => {
  const r = await fetch(`${srv.url}/repo/charts/index.yaml`);
  if (r.status !== 200) throw new Error(`index.yaml: ${r.status}`);
  await r.arrayBuffer();
};
const scale: Array<{ n: number; upload: number; indexChanged: number; indexSame: number }> = [];
let done = 0;
for (const n of SIZES) {
  // Fill up to n - 50 four at a time, then measure 50 single uploads, each followed by a GET.
  while (done < n - 50) {
    const batch = Array.from({ length: Math.min(4, n - 50 - done) }, (_, k) => done + k);
    await Promise.all(batch.map(upload));
    done += batch.length;
  }
  const up: number[] = [];
  const changed: number[] = [];
  for (let k = 0; k < 50; k++) {
    up.push(await timed(() => upload(done++)));
    changed.push(await timed(getIndex));
  }
  const same: number[] = [];
  for (let k = 0; k < 20; k++) same.push(await timed(getIndex));
  scale.push({ n, upload: median(up), indexChanged: median(changed), indexSame: median(same) });
  log(`helm: ${n} versions done`);
}
await srv.stop();
// The reference: the same process starting on an empty store.
const emptyDir = join(work.path, 'empty');
await mkdir(emptyDir, { recursive: true });
const e0 = performance.now();
srv = await startProcessServer('node', config(emptyDir, [{ name: 'charts', format: 'helm', type: 'local' }]), emptyDir, { compiled: true });
await getIndex();
const startupEmpty = performance.now() - e0;
await srv.stop();
const t0 = performance.now();
srv = await startProcessServer('node', repoCfg, scaleDir, { compiled: true });
await getIndex();
const startup = performance.now() - t0;
const yamlIndex = await (await fetch(`${srv.url}/repo/charts/index.yaml`)).text();
await srv.stop();

// helm repo update of the same index as block YAML and as JSON, served as static files.
const www = join(work.path, 'www');
await mkdir(join(www, 'yaml'), { recursive: true });
await mkdir(join(www, 'json'), { recursive: true });
await writeFile(join(www, 'yaml', 'index.yaml'), yamlIndex);
await writeFile(join(www, 'json', 'index.yaml'), JSON.stringify(parseYaml(yamlIndex)));
const ngx = await startStaticNginx(www, work.path);
const update: Record<string, number[]> = { yaml: [], json: [] };
for (let r = 0; r < 3; r++) {
  for (const f of rng() < 0.5 ? ['yaml', 'json'] : ['json', 'yaml']) {
    const h = join(work.path, `home-update-${f}-${r}`);
    await helm(h, ['repo', 'add', 'x', `${ngx.url}/${f}`]);
    update[f]?.push(await timed(() => helm(h, ['repo', 'update', 'x'])));
  }
}

// --- 2. helm pull: direct vs binaryrepo cold and warm -----------------------------------------
const up = join(www, 'up');
await mkdir(up, { recursive: true });
const home = join(work.path, 'home');
// A 1 MB incompressible file in each chart, as charts with bundled CRDs or dashboards are large.
for (let i = 0; i < PULLS; i++) {
  const chartDir = await writeChart(home, join(work.path, 'src', `p${i}`), { name: `p${i}`, version: '1.0.0' });
  await mkdir(join(chartDir, 'files'), { recursive: true });
  await writeFile(join(chartDir, 'files', 'blob.txt'), randomBytes(768 * 1024).toString('base64'));
  const p = await helm(home, ['package', chartDir, '-d', up]);
  if (p.code !== 0) throw new Error(p.stderr);
}
await helm(home, ['repo', 'index', up]);
const relay = await startRelay(ngx.url);
async function pullAll(repoUrl: string, tag: string): Promise<number> {
  const h = join(work.path, `home-${tag}`);
  await helm(h, ['repo', 'add', 'r', repoUrl]);
  const dest = join(work.path, `dest-${tag}`);
  await mkdir(dest, { recursive: true });
  return timed(async () => {
    for (let i = 0; i < PULLS; i++) {
      const r = await helm(h, ['pull', `r/p${i}`, '-d', dest]);
      if (r.code !== 0) throw new Error(`helm pull via ${repoUrl}: ${r.stderr}`);
    }
  });
}
const direct: number[] = [];
const cold: number[] = [];
const warm: number[] = [];
const gets: number[] = [];
for (let r = 0; r < rounds; r++) {
  const tasks = [
    async () => void direct.push(await pullAll(`${relay.url}/up`, `direct-${r}`)),
    async () => {
      const dir = join(work.path, `br-${r}`);
      await mkdir(dir, { recursive: true });
      const s = await startProcessServer('node', config(dir, [{ name: 'up', format: 'helm', type: 'remote', upstream: { url: `${relay.url}/up` } }]), dir, { compiled: true });
      try {
        relay.reset();
        cold.push(await pullAll(`${s.url}/repo/up`, `cold-${r}`));
        gets.push(relay.count('GET', '.tgz'));
        warm.push(await pullAll(`${s.url}/repo/up`, `warm-${r}`));
      } finally {
        await s.stop();
      }
    },
  ];
  await inShuffledOrder(tasks);
  log(`helm: pull round ${r + 1}/${rounds} done`);
}
const cm = await run('go', ['install', 'helm.sh/chartmuseum/cmd/chartmuseum@latest'], { timeoutMs: 300_000, env: { ...process.env, GOPATH: join(work.path, 'cm'), GOTOOLCHAIN: 'local' } });
const cmNote = cm.code === 0 ? 'ChartMuseum installed but not wired in yet' : `ChartMuseum could not be installed here: ${cm.stderr.trim().split('\n').pop() ?? ''}`;
const ratio = (xs: number[]): string => median(xs.map((x, i) => x / (direct[i] ?? Number.NaN))).toFixed(2);
const helmVersion = (await helm(home, ['version', '--short'])).stdout.trim();
console.log(`## Helm — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. helm ${helmVersion}; binaryrepo on Node ${process.versions.node} (compiled dist/). ${cmNote}.

Hosted repo, ms (medians of 50 uploads, each followed by a GET of index.yaml, then 20 GETs with no change):

| chart versions | upload | index.yaml after an upload | index.yaml unchanged |
| ---: | ---: | ---: | ---: |
${scale.map((s) => `| ${s.n} | ${s.upload.toFixed(1)} | ${s.indexChanged.toFixed(1)} | ${s.indexSame.toFixed(1)} |`).join('\n')}

Start-up at ${SIZES.at(-1)} versions (process start to the first index.yaml answered): ${startup.toFixed(0)} ms; with an empty store ${startupEmpty.toFixed(0)} ms.
\`helm repo update\` of that index (${(yamlIndex.length / 1e6).toFixed(1)} MB), median of 3: block YAML ${median(update['yaml'] ?? []).toFixed(0)} ms, JSON ${median(update['json'] ?? []).toFixed(0)} ms.

\`helm pull\` of ${PULLS} charts (1 MB each), one helm process per chart, ${rounds} rounds in shuffled order (seed ${seed}):

| candidate | ms | ÷ direct | upstream archive GETs (cold) |
| --- | ---: | ---: | ---: |
| upstream direct (nginx) | ${median(direct).toFixed(0)} | 1.00 | |
| binaryrepo remote, cold | ${median(cold).toFixed(0)} | ${ratio(cold)} | ${median(gets)} of ${PULLS} |
| binaryrepo remote, warm | ${median(warm).toFixed(0)} | ${ratio(warm)} | |
`);
await relay.close();
await ngx.stop();
await work.cleanup();
