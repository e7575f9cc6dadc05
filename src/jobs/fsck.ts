import type { Config } from '../config/schema.ts';
import type { StoreAccess } from '../formats/format.ts';
import { formatOf } from '../formats/registry.ts';
import { hashHandle } from '../storage/blob-store.ts';
import { parseDigest } from '../storage/digest.ts';
import type { Digest } from '../storage/digest.ts';
import { LAYOUT_VERSION, layout } from '../storage/layout.ts';
import { forEachLimit } from '../util/pool.ts';

export interface FsckReport {
  blobs: number;
  /** Documents per kind, as the formats count them (manifests, tags, files). */
  manifests: number;
  tags: number;
  files: number;
  /** Every count a format's check reported, by its own name, summed over repos. */
  counts: Record<string, number>;
  problems: string[];
  /** How long the check took. */
  ms: number;
}

/**
 * Blob prefix folders checked at once: with --verify-blobs, reading one blob overlaps hashing
 * another. Per folder, not per blob within one: a folder holds ~1/256 of the blobs, often one.
 */
const VERIFY_CONCURRENCY = 4;

type FsckServer = StoreAccess & { config: Pick<Config, 'repos'> };

/**
 * Checks the invariants every write path keeps, crash or no crash: a blob file holds exactly the
 * bytes its name says (with verifyBlobs), and every repo folder passes its format's own checks
 * (Docker: tags point at manifests the image has, local images have their blobs; generic: every
 * file's content is in the store).
 */
export async function checkStore(s: FsckServer, verifyBlobs: boolean): Promise<FsckReport> {
  const t0 = Date.now();
  const report: FsckReport = { blobs: 0, manifests: 0, tags: 0, files: 0, counts: {}, problems: [], ms: 0 };
  const problem = (p: string): number => report.problems.push(p);
  const local = new Set(s.config.repos.filter((r) => r.type === 'local').map((r) => r.name));
  for (const alg of await s.driver.list(`${LAYOUT_VERSION}/blobs`)) {
    await forEachLimit(await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}`), VERIFY_CONCURRENCY, async (pre) => {
      for (const hex of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}/${pre}`)) {
        const d = parseDigest(`${alg}:${hex}`);
        report.blobs++;
        if (!d.ok || hex.slice(0, 2) !== pre) {
          problem(`stray file in the blob store: ${alg}/${pre}/${hex}`);
          continue;
        }
        if (verifyBlobs && !(await hashesTo(s, d.digest))) problem(`blob ${d.digest.value}: content does not match its digest`);
      }
    });
  }
  for (const repo of await s.meta.list(`${LAYOUT_VERSION}/repos`)) {
    for (const folder of await s.meta.list(layout.repoRoot(repo))) {
      if (folder.startsWith('_')) continue;
      const format = formatOf(folder);
      if (!format) {
        problem(`${repo}: folder "${folder}" belongs to no known format`);
        continue;
      }
      const r = await format.store.check(s, repo, local.has(repo));
      report.manifests += r.counts['manifests'] ?? 0;
      report.tags += r.counts['tags'] ?? 0;
      report.files += r.counts['files'] ?? 0;
      for (const [k, n] of Object.entries(r.counts)) report.counts[k] = (report.counts[k] ?? 0) + n;
      report.problems.push(...r.problems);
    }
  }
  report.ms = Date.now() - t0;
  return report;
}

async function hashesTo(s: StoreAccess, d: Digest): Promise<boolean> {
  const fh = await s.blobs.open(d);
  return fh !== null && (await hashHandle(fh, d.algorithm)).value === d.value;
}
