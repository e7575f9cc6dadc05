import { run } from '../test/helpers/net.ts';
import { PULL_ACCEPT, pullImage } from '../test/helpers/pull.ts';
import type { BenchImage } from './images.ts';

export interface CeilingRow {
  target: string;
  client: string;
  ms: number;
  mbPerSec: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The pull client against nginx and against a warm binaryrepo, nothing else running: our client
 * (Node fetch, sha256 of every byte, three layers at a time) next to curl fetching the same blobs
 * three at a time. Where ours is far below curl, the client, not the server, bounds the warm
 * numbers, and the curl rows are the ones that compare the servers.
 */
export async function clientCeiling(targets: Array<{ name: string; base: string }>, img: BenchImage, rounds: number): Promise<CeilingRow[]> {
  const rows: CeilingRow[] = [];
  for (const t of targets) {
    const res = await fetch(`${t.base}/v2/${img.name}/manifests/${img.tag}`, { headers: { accept: PULL_ACCEPT } });
    const doc = (await res.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const urls = [doc.config, ...doc.layers].map((d) => `${t.base}/v2/${img.name}/blobs/${d.digest}`);
    const node: number[] = [];
    const curl: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      await pullImage(t.base, img.name, img.tag);
      node.push(performance.now() - t0);
      t0 = performance.now();
      const out = await run('curl', ['-sf', '--parallel', '--parallel-max', '3', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
      if (out.code !== 0) throw new Error(`curl failed: ${out.stderr}`);
      curl.push(performance.now() - t0);
    }
    const row = (client: string, xs: number[]): CeilingRow => ({ target: t.name, client, ms: median(xs), mbPerSec: img.bytes / 1e6 / (median(xs) / 1000) });
    rows.push(row('bench client (Node fetch + sha256)', node), row('curl, 3 at a time (no hashing)', curl));
  }
  return rows;
}
