// The store-size section of `make bench` (issue 13): the same content — one image with N tags and
// 100 one-tag images — pushed into a binaryrepo local repo and into the CNCF registry, then: walking
// the tag list in pages of 100 vs one whole request, walking the catalog in pages of 10, random-tag
// manifest HEADs per second (16 clients, after a warm pass over every tag), and the offline gc
// (dry run) of each. Sizes 1k and 10k tags (quick: 1k and 3k).
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { makeImage, pushBlob, pushManifest } from '../test/helpers/images.ts';
import type { TestImage } from '../test/helpers/images.ts';
import { run } from '../test/helpers/net.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { REGISTRY_BIN, startRegistry } from '../test/helpers/registry.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { pushesBesideGc } from './jobs.ts';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [1000, 3000] : [1000, 10_000];
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const ACCEPT = 'application/vnd.docker.distribution.manifest.v2+json';
const work = await tempDir('bench-store-');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function fill(repo: string, img: TestImage, n: number): Promise<void> {
  for (const b of [img.config, ...img.layers]) await pushBlob(repo, 'big', b);
  for (let i = 0; i < n; i += 16) await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, k) => pushManifest(repo, 'big', `t${i + k}`, img.manifest)));
  for (let i = 0; i < 100; i++) {
    for (const b of [img.config, ...img.layers]) await pushBlob(repo, `img${i}`, b);
    await pushManifest(repo, `img${i}`, 'latest', img.manifest);
  }
}

/** Pages of the last walk (the CNCF registry 2.8 ignores `n` for tags and answers in one page). */
let pages = 0;

/** Follows the Link header through every page; returns the items seen. */
async function walk(first: string, origin: string, key: 'tags' | 'repositories'): Promise<number> {
  let url: string | null = first;
  let seen = 0;
  pages = 0;
  while (url) {
    pages++;
    const r: Response = await fetch(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    seen += ((await r.json()) as Record<string, string[]>)[key]?.length ?? 0;
    const link = r.headers.get('link');
    const next = link ? /<([^>]+)>/.exec(link)?.[1] : undefined;
    url = next ? new URL(next, origin).href : null;
  }
  return seen;
}

async function headRate(repo: string, n: number): Promise<number> {
  for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, k) => fetch(`${repo}/v2/big/manifests/t${i + k}`, { method: 'HEAD', headers: { accept: ACCEPT } })));
  let count = 0;
  const until = performance.now() + 3000;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < until) {
        const r = await fetch(`${repo}/v2/big/manifests/t${Math.floor(Math.random() * n)}`, { method: 'HEAD', headers: { accept: ACCEPT } });
        if (r.status !== 200) throw new Error(`HEAD ${r.status}`);
        count++;
      }
    }),
  );
  return count / 3;
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * An offline gc dry run, 5 times: the median wall time of the whole process, and of the job alone:
 * what the job reports (binaryrepo prints its own ms), else the wall time less the program's bare
 * start (the same binary printing its version), so a runtime's start-up is not counted as the walk.
 */
async function gcRuns(bin: string, args: string[], jobMs?: (stdout: string) => number): Promise<{ whole: number; job: number }> {
  const whole: number[] = [];
  const job: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = await run(bin, args, { timeoutMs: 600_000 });
    whole.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`${bin} ${args[0] ?? ''}: ${r.stderr}`);
    if (jobMs) job.push(jobMs(r.stdout));
  }
  if (jobMs) return { whole: median(whole), job: median(job) };
  const start: number[] = [];
  for (let i = 0; i < 5; i++) start.push(await timed(() => run(bin, ['--version'])));
  return { whole: median(whole), job: median(whole) - median(start) };
}

interface Row {
  n: number;
  who: string;
  walk: number;
  tagPages: number;
  whole: number;
  catalog: number;
  catalogPages: number;
  head: number;
  gc: { whole: number; job: number };
  fsck?: { whole: number; job: number };
}
const rows: Row[] = [];
const img = await makeImage({ layerSizes: [4096] });
for (const n of SIZES) {
  const dir = join(work.path, `br-${n}`);
  await mkdir(dir, { recursive: true });
  const cfg = { storage: { type: 'fs', path: join(dir, 'data') }, log: { requests: false }, repos: [{ name: 'loc', format: 'docker', type: 'local' }] };
  const br = await startProcessServer('node', cfg, dir, { compiled: true });
  const reg = await startRegistry({ rootDir: join(work.path, `reg-${n}`) });
  const candidates = [
    { who: 'binaryrepo (Node)', repo: `${br.url}/repo/loc`, origin: br.url },
    { who: 'CNCF registry', repo: reg.url, origin: reg.url },
  ];
  for (const c of candidates) {
    await fill(c.repo, img, n);
    log(`store: ${c.who} filled with ${n} tags`);
    const tags = `${c.repo}/v2/big/tags/list`;
    if ((await walk(`${tags}?n=100`, c.origin, 'tags')) !== n) throw new Error(`${c.who}: tag walk incomplete`);
    const walkMs = await timed(() => walk(`${tags}?n=100`, c.origin, 'tags'));
    const tagPages = pages;
    const whole = [] as number[];
    for (let i = 0; i < 5; i++) whole.push(await timed(async () => (await fetch(tags)).json()));
    const catalog = await timed(() => walk(`${c.repo}/v2/_catalog?n=10`, c.origin, 'repositories'));
    const catalogPages = pages;
    const head = await headRate(c.repo, n);
    rows.push({ n, who: c.who, walk: walkMs, tagPages, whole: whole.sort((a, b) => a - b)[2] ?? NaN, catalog, catalogPages, head, gc: { whole: NaN, job: NaN } });
  }
  await br.stop();
  await reg.stop();
  const regCfg = join(work.path, `reg-${n}.yml`);
  await writeFile(regCfg, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(work.path, `reg-${n}`)}\n`);
  const brGc = await gcRuns(process.execPath, ['dist/adapters/cli.js', 'gc', '--dry-run', '--config', join(dir, 'config-node.json')], (out) => (JSON.parse(out) as { ms: number }).ms);
  const regGc = await gcRuns(REGISTRY_BIN, ['garbage-collect', '--dry-run', regCfg]);
  const brFsck = await gcRuns(process.execPath, ['dist/adapters/cli.js', 'fsck', '--config', join(dir, 'config-node.json')], (out) => (JSON.parse(out) as { ms: number }).ms);
  for (const r of rows) if (r.n === n) r.gc = r.who.startsWith('binaryrepo') ? brGc : regGc;
  for (const r of rows) if (r.n === n && r.who.startsWith('binaryrepo')) r.fsck = brFsck;
  log(`store: ${n} done`);
}
const nodeStarts: number[] = [];
for (let i = 0; i < 5; i++) nodeStarts.push(await timed(() => run(process.execPath, ['-e', '0'])));
const nodeStart = median(nodeStarts);
console.log(`## Store size — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. binaryrepo on Node ${process.versions.node} (compiled dist/); Debian's docker-registry (CNCF distribution). One image with N tags plus 100 one-tag images, pushed into each; client and server share the cores. gc: the offline dry run of each (binaryrepo \`gc --dry-run\`, \`docker-registry garbage-collect --dry-run\`), median of 5, as a whole process and the job alone (binaryrepo's own report; the CNCF registry's wall time less its \`--version\` start); \`node -e 0\` alone takes ${nodeStart.toFixed(0)} ms here; every tag names the same manifest, so gc here measures the walk over images, not manifest reads; fsck (binaryrepo only: the CNCF registry has none) also reads and checks every tag (see the gc numbers in the issue 13 note for 3,000 distinct images).

| tags | candidate | walk tags with n=100: ms (pages) | whole tag list (ms) | catalog with n=10: ms (pages) | random-tag HEAD (req/s) | offline gc dry run: process (ms) | gc job alone (ms) | fsck: process / job alone (ms) |
| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.map((r) => `| ${r.n} | ${r.who} | ${r.walk.toFixed(0)} (${r.tagPages}) | ${r.whole.toFixed(1)} | ${r.catalog.toFixed(0)} (${r.catalogPages}) | ${r.head.toFixed(0)} | ${r.gc.whole.toFixed(0)} | ${r.gc.job.toFixed(0)} | ${r.fsck ? `${r.fsck.whole.toFixed(0)} / ${r.fsck.job.toFixed(0)}` : ''} |`).join('\n')}
`);
await work.cleanup();
console.log(await pushesBesideGc());
