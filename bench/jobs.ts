// The "pushes beside gc" rows of the store-size section (issue 13): a local repo holding N distinct
// manifests (N tags over 100 images, each manifest with its own config blob), a tenth of them
// deleted so gc has garbage to sweep; then push latency (one new blob + one new tagged manifest,
// 4 clients) while idle and while online gc runs, gc's own duration beside it. binaryrepo runs in
// this process (the online gc has no HTTP trigger yet), on Node with tsx; ratios within one run.
import { cpus, loadavg } from 'node:os';
import { runGc } from '../src/jobs/gc.ts';
import { sha256 } from '../test/helpers/images.ts';
import { startServer } from '../test/helpers/server.ts';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [2000] : [10_000, 50_000];
const log = (s: string): boolean => process.stderr.write(`${s}\n`);
const MT = 'application/vnd.oci.image.manifest.v1+json';
const layer = new Uint8Array(2048).fill(7);
const layerDigest = sha256(layer);

function manifestFor(i: number, salt: string): { config: Uint8Array; bytes: Uint8Array } {
  const config = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', salt, i, rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const doc = { schemaVersion: 2, mediaType: MT, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.byteLength }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.byteLength }] };
  return { config, bytes: new TextEncoder().encode(JSON.stringify(doc)) };
}

async function push(base: string, image: string, tag: string, i: number, salt: string): Promise<string> {
  const m = manifestFor(i, salt);
  const b = await fetch(`${base}/v2/${image}/blobs/uploads/?digest=${sha256(m.config)}`, { method: 'POST', body: m.config, headers: { 'content-type': 'application/octet-stream' } });
  if (b.status !== 201) throw new Error(`blob push ${b.status}: ${await b.text()}`);
  const r = await fetch(`${base}/v2/${image}/manifests/${tag}`, { method: 'PUT', body: m.bytes, headers: { 'content-type': MT } });
  if (r.status !== 201) throw new Error(`manifest push ${r.status}: ${await r.text()}`);
  return sha256(m.bytes);
}

/** Push latencies (ms) of `clients` loops until `until()` says stop (at least `min` pushes). */
async function pushLoop(base: string, clients: number, min: number, until: () => boolean, salt: string): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (out.length < min || !until()) {
        const i = next++;
        const t0 = performance.now();
        await push(base, `new${i % 10}`, `${salt}${i}`, i, salt);
        out.push(performance.now() - t0);
      }
    }),
  );
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

interface Row {
  n: number;
  gcMs: number;
  deleted: number;
  idle: number[];
  during: number[];
}

export async function pushesBesideGc(): Promise<string> {
  const rows: Row[] = [];
  for (const n of SIZES) {
    const srv = await startServer({ config: { log: { requests: false }, gc: { graceMinutes: 0 }, repos: [{ name: 'loc', format: 'docker', type: 'local' }] } });
    const base = `${srv.url}/repo/loc`;
    for (const image of [...Array.from({ length: 100 }, (_, i) => `img${i}`), ...Array.from({ length: 10 }, (_, i) => `new${i}`)]) {
      const r = await fetch(`${base}/v2/${image}/blobs/uploads/?digest=${layerDigest}`, { method: 'POST', body: layer });
      if (r.status !== 201) throw new Error(`layer ${r.status}`);
    }
    const digests: string[] = [];
    for (let i = 0; i < n; i += 32) digests.push(...(await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, k) => push(base, `img${(i + k) % 100}`, `t${i + k}`, i + k, 'fill')))));
    for (let i = 0; i < n; i += 10) {
      const r = await fetch(`${base}/v2/img${i % 100}/manifests/${digests[i]}`, { method: 'DELETE' });
      if (r.status !== 202) throw new Error(`delete ${r.status}`);
    }
    log(`jobs: ${n} manifests stored, ${Math.ceil(n / 10)} deleted`);
    const idle = await pushLoop(base, 4, 300, () => true, 'idle');
    let gcDone = false;
    const t0 = performance.now();
    const gc = runGc(srv.server, false).finally(() => (gcDone = true));
    const during = await pushLoop(base, 4, 20, () => gcDone, 'gc');
    const report = await gc;
    const gcMs = performance.now() - t0;
    // Every manifest pushed during the run must still be there, whole.
    const check = await fetch(`${base}/v2/new0/manifests/gc0`, { headers: { accept: MT } });
    if (check.status !== 200) throw new Error(`a manifest pushed during gc is gone: ${check.status}`);
    rows.push({ n, gcMs, deleted: report.blobsDeleted, idle, during });
    log(`jobs: ${n}: gc ${gcMs.toFixed(0)} ms, ${during.length} pushes during it`);
    await srv.close();
  }
  return `### Pushes beside an online gc — ${new Date().toISOString()}

Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}. binaryrepo in-process on Node ${process.versions.node} (tsx), client in the same process; N distinct manifests over 100 images, a tenth deleted (their config blobs are the garbage); a push = monolithic blob POST + manifest PUT of a new tag, 4 clients.

| manifests | online gc (ms) | blobs freed | pushes during gc | push p50 / p99 idle (ms) | push p50 / p99 / max during gc (ms) |
|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.n} | ${r.gcMs.toFixed(0)} | ${r.deleted} | ${r.during.length} | ${pct(r.idle, 50).toFixed(1)} / ${pct(r.idle, 99).toFixed(1)} | ${pct(r.during, 50).toFixed(1)} / ${pct(r.during, 99).toFixed(1)} / ${(r.during.at(-1) ?? NaN).toFixed(1)} |`).join('\n')}
`;
}

// Also runnable alone: node --import tsx bench/jobs.ts [--quick]
if (process.argv[1]?.endsWith('jobs.ts')) console.log(await pushesBesideGc());
