import { run } from '../test/helpers/net.ts';
import { PULL_ACCEPT, pullImage } from '../test/helpers/pull.ts';
import type { BenchImage } from './images.ts';

export interface CeilingRow {
  client: string;
  ms: number;
  mbPerSec: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The pull client alone against nginx (nothing else running): our client (Node fetch, sha256 of
 * every byte, three layers at a time) next to curl fetching the same blobs three at a time. If ours
 * is far below curl, the client, not the server, bounds the warm numbers.
 */
export async function clientCeiling(nginxBase: string, img: BenchImage, rounds: number): Promise<CeilingRow[]> {
  const res = await fetch(`${nginxBase}/v2/${img.name}/manifests/${img.tag}`, { headers: { accept: PULL_ACCEPT } });
  const doc = (await res.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
  const urls = [doc.config, ...doc.layers].map((d) => `${nginxBase}/v2/${img.name}/blobs/${d.digest}`);
  const node: number[] = [];
  const curl: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let t0 = performance.now();
    await pullImage(nginxBase, img.name, img.tag);
    node.push(performance.now() - t0);
    t0 = performance.now();
    const out = await run('curl', ['-sf', '--parallel', '--parallel-max', '3', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
    if (out.code !== 0) throw new Error(`curl failed: ${out.stderr}`);
    curl.push(performance.now() - t0);
  }
  const row = (client: string, xs: number[]): CeilingRow => ({ client, ms: median(xs), mbPerSec: img.bytes / 1e6 / (median(xs) / 1000) });
  return [row('bench client (Node fetch + sha256)', node), row('curl --parallel-max 3 (no hashing)', curl)];
}
