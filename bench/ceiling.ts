import { run } from '../test/helpers/net.ts';
import { PULL_ACCEPT, pullImage } from '../test/helpers/pull.ts';
import type { BenchImage } from './images.ts';

export interface CeilingRow {
  target: string;
  client: string;
  ms: number;
  mbPerSec: number;
  /** This client's time on this target ÷ the same client's on the first target (nginx), per round, median. */
  ratio: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The pull client against nginx and against warm binaryrepo servers, nothing else running: our
 * client (Node fetch, sha256 of every byte, three layers at a time) next to curl fetching the same
 * blobs three at a time. Where ours is far below curl, the client, not the server, bounds the warm
 * numbers, and the curl rows are the ones that compare the servers. Rounds are interleaved (the
 * targets in a rotated order each round) and ratios to the first target taken within a round.
 */
export async function clientCeiling(targets: Array<{ name: string; base: string }>, img: BenchImage, rounds: number): Promise<CeilingRow[]> {
  const urlsOf = new Map<string, string[]>();
  for (const t of targets) {
    const res = await fetch(`${t.base}/v2/${img.name}/manifests/${img.tag}`, { headers: { accept: PULL_ACCEPT } });
    const doc = (await res.json()) as { config: { digest: string }; layers: Array<{ digest: string }> };
    urlsOf.set(t.name, [doc.config, ...doc.layers].map((d) => `${t.base}/v2/${img.name}/blobs/${d.digest}`));
  }
  const times = new Map(targets.map((t) => [t.name, { node: [] as number[], curl: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(k + r) % targets.length] as { name: string; base: string };
      const into = times.get(t.name) as { node: number[]; curl: number[] };
      let t0 = performance.now();
      await pullImage(t.base, img.name, img.tag);
      into.node[r] = performance.now() - t0;
      t0 = performance.now();
      const out = await run('curl', ['-sf', '--parallel', '--parallel-max', '3', ...(urlsOf.get(t.name) ?? []).flatMap((u) => ['-o', '/dev/null', u])]);
      if (out.code !== 0) throw new Error(`curl failed: ${out.stderr}`);
      into.curl[r] = performance.now() - t0;
    }
  }
  const first = times.get(targets[0]?.name ?? '') as { node: number[]; curl: number[] };
  const rows: CeilingRow[] = [];
  for (const t of targets) {
    const x = times.get(t.name) as { node: number[]; curl: number[] };
    const row = (client: string, xs: number[], base: number[]): CeilingRow => ({
      target: t.name,
      client,
      ms: median(xs),
      mbPerSec: img.bytes / 1e6 / (median(xs) / 1000),
      ratio: median(xs.map((v, i) => v / (base[i] ?? Number.NaN))),
    });
    rows.push(row('bench client (Node fetch + sha256)', x.node, first.node), row('curl, 3 at a time (no hashing)', x.curl, first.curl));
  }
  return rows;
}
