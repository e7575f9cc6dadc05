// The scale-out section of `make bench` (issue 15): binaryrepo replicas over one bucket on Ceph RGW
// (test/ceph/ceph.sh, one host, memstore), nginx balancing over them, docker-registry upstream
// behind a counting relay. Rows:
//   - one replica, fs vs S3: cold pull (1 client) and warm pulls (16 clients) of one image;
//   - warm pull throughput through nginx with 1 vs 3 replicas (S3), and 3 replicas with blob GETs
//     redirected to presigned bucket URLs;
//   - cold pulls by 8 and 32 clients spread over 3 replicas: upstream bytes ÷ image bytes (1.00 =
//     every blob fetched once however many replicas and clients missed it).
// Everything runs on this one machine (2 cores here): replicas, RGW, nginx and the clients share the
// CPU, so throughput rows measure the stack's cost per byte more than a real cluster's capacity.
import { mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { makeImage, pushImage } from '../test/helpers/images.ts';
import { run } from '../test/helpers/net.ts';
import { startBalancer } from '../test/helpers/nginx.ts';
import type { RunningNginx } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import type { ProcessServer } from '../test/helpers/process-server.ts';
import { pullImage } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import { startRelay } from '../test/helpers/relay.ts';
import { s3Options } from '../test/helpers/s3.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const quick = process.argv.includes('--quick');
const MiB = 1024 * 1024;
const LAYERS = quick ? [8 * MiB, 4 * MiB, 1 * MiB] : [40 * MiB, 20 * MiB, 4 * MiB];
const WARM_CLIENTS = 16;
const WARM_PULLS = quick ? 48 : 160;
const log = (s: string): boolean => process.stderr.write(`${s}\n`);

const wasUp = await fetch('http://127.0.0.1:7480/').then(() => true, () => false);
const started = await run('sh', ['test/ceph/ceph.sh', 'start'], { timeoutMs: 180_000 });
if (started.code !== 0) throw new Error(`ceph: ${started.stderr}`);
const work = await tempDir('bench-scaleout-');
const upstream = await startRegistry();
const relay = await startRelay(upstream.url);
let imageSeq = 0;

/** A fresh image in the upstream (so every cold row is really cold); its total blob bytes. */
async function freshImage(): Promise<{ name: string; bytes: number }> {
  const img = await makeImage({ layerSizes: LAYERS });
  const name = `bench/img${imageSeq++}`;
  await pushImage(upstream.url, name, '1', img);
  return { name, bytes: [img.config, ...img.layers].reduce((a, b) => a + b.bytes.byteLength, 0) };
}

let seq = 0;
async function replicas(n: number, storage: 'fs' | 's3', extra: Record<string, unknown> = {}): Promise<ProcessServer[]> {
  const s3 = storage === 's3' ? await s3Options(join(work.path, 'unused')) : undefined;
  const out: ProcessServer[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(work.path, `r${seq++}`);
    await mkdir(dir, { recursive: true });
    const store = s3
      ? { type: 's3', endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true, prefix: s3.prefix, spoolDir: join(dir, 'spool'), ...extra }
      : { type: 'fs', path: join(dir, 'data') };
    out.push(await startProcessServer('node', { storage: store, log: { requests: false }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: relay.url } }] }, dir, { compiled: true }));
  }
  return out;
}

async function stopAll(rs: ProcessServer[], lb?: RunningNginx): Promise<void> {
  await lb?.stop();
  await Promise.all(rs.map((r) => r.stop()));
}

/** `clients` pulling at once (client i through bases[i % n]); wall time and upstream bytes. */
async function coldPulls(bases: string[], clients: number, image: { name: string; bytes: number }): Promise<{ ms: number; ratio: number }> {
  relay.reset();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => pullImage(bases[i % bases.length] as string, image.name, '1')));
  return { ms: performance.now() - t0, ratio: relay.bytes.value / image.bytes };
}

/** WARM_PULLS pulls by WARM_CLIENTS clients after one warming pull; MB/s of blob bytes delivered. */
async function warmThroughput(base: string, image: { name: string; bytes: number }): Promise<number> {
  await pullImage(base, image.name, '1');
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WARM_CLIENTS }, async () => {
      while (next++ < WARM_PULLS) await pullImage(base, image.name, '1');
    }),
  );
  return (WARM_PULLS * image.bytes) / MiB / ((performance.now() - t0) / 1000);
}

// Redirected pulls follow the 307 to the bucket (fetch follows redirects; pullImage checks every digest).
const rows: string[] = [];
const row = (cells: Array<string | number>): number => rows.push(`| ${cells.join(' | ')} |`);

// One replica: fs vs S3.
for (const storage of ['fs', 's3'] as const) {
  const rs = await replicas(1, storage);
  const base = `${rs[0]?.url}/repo/hub`;
  const img = await freshImage();
  const cold = await coldPulls([base], 1, img);
  const warm = await warmThroughput(base, img);
  log(`scaleout: 1 replica on ${storage}: cold ${cold.ms.toFixed(0)} ms, warm ${warm.toFixed(0)} MB/s`);
  row([`1 replica, ${storage}`, `cold pull (1 client): ${cold.ms.toFixed(0)} ms`, `warm: ${warm.toFixed(0)} MB/s`, `upstream ÷ image ${cold.ratio.toFixed(2)}`]);
  await stopAll(rs);
}

// Through nginx: 1 vs 3 replicas, then 3 with redirects; cold pulls by 8 and 32 clients over 3.
for (const { n, extra, label } of [
  { n: 1, extra: {}, label: '1 replica (S3) behind nginx' },
  { n: 3, extra: {}, label: '3 replicas (S3) behind nginx' },
  { n: 3, extra: { redirectBlobs: true }, label: '3 replicas (S3), blob GETs redirected to RGW' },
]) {
  const rs = await replicas(n, 's3', extra);
  const lb = await startBalancer({ backends: rs.map((r) => r.url), dir: join(work.path, `lb${seq++}`) });
  const base = `${lb.url}/repo/hub`;
  const cells: string[] = [];
  for (const clients of n === 3 && label.endsWith('nginx') ? [8, 32] : [1]) {
    const img = await freshImage();
    const cold = await coldPulls([base], clients, img);
    cells.push(`cold, ${clients} client${clients > 1 ? 's' : ''}: ${cold.ms.toFixed(0)} ms, upstream ÷ image ${cold.ratio.toFixed(2)}`);
    if (clients === 1 || clients === 8) cells.push(`warm: ${(await warmThroughput(base, img)).toFixed(0)} MB/s`);
  }
  log(`scaleout: ${label}: ${cells.join('; ')}`);
  row([label, ...cells]);
  await stopAll(rs, lb);
}

// Upstream direct (the docker-registry itself, no cache) for scale.
{
  const img = await freshImage();
  const warm = await warmThroughput(upstream.url, img);
  row(['upstream docker-registry direct (no cache)', `warm: ${warm.toFixed(0)} MB/s`]);
}

console.log(`## Scale-out — ${new Date().toISOString()}

Node ${process.version} (compiled dist/), ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end.
Ceph RGW (Debian's radosgw, memstore OSD) on this host; nginx round-robin; image of ${LAYERS.map((b) => `${b / MiB} MiB`).join(' + ')} layers.
Warm: ${WARM_PULLS} pulls by ${WARM_CLIENTS} clients; MB/s of blob bytes, every body's sha256 checked by the client.
Replicas, RGW, nginx and clients share this machine's CPUs: the rows compare configurations, not cluster capacity.

| setup | | | |
|---|---|---|---|
${rows.join('\n')}
`);

await relay.close();
await upstream.stop();
await work.cleanup();
if (!wasUp) await run('sh', ['test/ceph/ceph.sh', 'stop']);
