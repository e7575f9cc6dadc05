import type { AccessTimes } from '../cache/access-times.ts';
import type { Config } from '../config/schema.ts';
import type { CacheUnit, StoreAccess } from '../formats/format.ts';
import { formatOf } from '../formats/registry.ts';
import { parseDigest } from '../storage/digest.ts';
import { LAYOUT_VERSION, layout } from '../storage/layout.ts';
import { pushTo } from '../util/maps.ts';
import type { GcGate } from '../storage/gc-gate.ts';
import type { RepoSwitches } from '../formats/switches.ts';
import type { Digest } from '../storage/digest.ts';

export interface Budget {
  maxBytes: number;
  /** Eviction starts above maxBytes × high and stops at maxBytes × low. */
  high: number;
  low: number;
}

export interface EvictReport {
  repos: string[];
  dryRun: boolean;
  usageBefore: number;
  usageAfter: number;
  /** Docker manifests removed (other formats' units count under `removed`). */
  manifests: number;
  tags: number;
  blobsUnlinked: number;
  /** Units removed by the name their format gives them: manifest, blob link, file. */
  removed: Record<string, number>;
  blobsDeleted: number;
  bytesFreed: number;
  evicted: string[];
}


export type EvictServer = StoreAccess & { config: Pick<Config, 'repos'>; gcGate: GcGate; switches: Pick<RepoSwitches, 'withPins'> };

/**
 * Least-recently-used eviction over a set of remote repos under one budget (one repo's own, or the
 * global one over all of them), on the units their formats report (src/formats/format.ts). Roots
 * (manifests, files) go first, oldest access first; a non-root unit (a blob link) goes as soon as no
 * remaining unit of the set references its content, and its file is deleted unless something
 * outside the set (another repo of any format, a local image) holds it. Units never referenced go
 * last, also by age. Pinned units, and everything they reference, are never touched.
 */
export async function evict(s: EvictServer, access: AccessTimes, repos: string[], budget: Budget, dryRun: boolean): Promise<EvictReport> {
  const run = await s.gcGate.track();
  try {
    return await plan({ ...s, blobs: s.blobs.unobserved() }, access, repos, budget, dryRun, run.used);
  } finally {
    run.end();
  }
}

/**
 * The run itself, beside pushes and fills: documents go at once (a fill that rewrites one only
 * costs a refetch later), blobs at the end in short exclusive batches, skipping any that something
 * used since the run began (a local push that mounts it, a fill that just stored it).
 */
async function plan(s: EvictServer, access: AccessTimes, repos: string[], budget: Budget, dryRun: boolean, used: ReadonlySet<string>): Promise<EvictReport> {
  const report: EvictReport = { repos, dryRun, usageBefore: 0, usageAfter: 0, manifests: 0, tags: 0, blobsUnlinked: 0, removed: {}, blobsDeleted: 0, bytesFreed: 0, evicted: [] };
  const units: CacheUnit[] = [];
  for (const repo of repos) {
    const cfg = s.config.repos.find((r) => r.name === repo);
    const format = cfg ? formatOf(cfg.format) : undefined;
    // Pins an admin added at run time count like configured ones.
    if (format) units.push(...(await format.store.units(s, repo, await access.times(repo), cfg ? s.switches.withPins(cfg) : cfg)));
  }
  const sizeOf = new Map<string, number>();
  for (const u of units) sizeOf.set(u.digest, Math.max(sizeOf.get(u.digest) ?? 0, u.size));
  const occupants = new Map<string, number>();
  for (const u of units) occupants.set(u.digest, (occupants.get(u.digest) ?? 0) + 1);
  const refCount = new Map<string, number>();
  for (const u of units) for (const r of u.refs) refCount.set(r, (refCount.get(r) ?? 0) + 1);
  const pinnedRefs = new Set(units.filter((u) => u.pinned).flatMap((u) => [u.digest, ...u.refs]));
  // Non-root units by the content they occupy: unlink finds a blob's holders without a scan of
  // every unit (a scan per call grew with links × units).
  const holdersOf = new Map<string, CacheUnit[]>();
  for (const u of units) if (!u.root) pushTo(holdersOf, u.digest, u);
  let usage = [...sizeOf.values()].reduce((a, b) => a + b, 0);
  report.usageBefore = usage;
  report.usageAfter = usage;
  if (usage <= budget.maxBytes * budget.high) return report;

  const external = new Set<string>();
  await heldOutside(s, repos, external);
  const goal = budget.maxBytes * budget.low;
  const forget = new Map<string, string[]>();
  const doomed: Digest[] = [];
  const removed = new Set<CacheUnit>();
  const take = async (u: CacheUnit): Promise<void> => {
    removed.add(u);
    occupants.set(u.digest, (occupants.get(u.digest) ?? 1) - 1);
    pushTo(forget, u.repo, u.digest);
    report.removed[u.kind] = (report.removed[u.kind] ?? 0) + 1;
    if (u.kind === 'manifest') report.manifests++;
    else if (!u.root) report.blobsUnlinked++;
    if (!dryRun) report.tags += await u.remove();
  };
  // The content goes once no unit of the set occupies or references it any more.
  const drop = async (d: string): Promise<void> => {
    if ((occupants.get(d) ?? 0) > 0 || (refCount.get(d) ?? 0) > 0 || pinnedRefs.has(d)) return;
    const size = sizeOf.get(d) ?? 0;
    sizeOf.delete(d);
    usage -= size;
    report.bytesFreed += size;
    if (external.has(d)) return;
    const p = parseDigest(d);
    if (p.ok) doomed.push(p.digest);
  };
  // Every non-root unit occupying `d` (a blob linked in several repos of the set) goes at once.
  const unlink = async (d: string): Promise<void> => {
    const holders = (holdersOf.get(d) ?? []).filter((x) => !removed.has(x));
    if (holders.length === 0) return;
    for (const h of holders) await take(h);
    await drop(d);
  };
  for (const u of units.filter((x) => x.root && !x.pinned).sort((a, b) => a.last - b.last)) {
    if (usage <= goal) break;
    await take(u);
    await drop(u.digest);
    for (const r of u.refs) {
      const n = (refCount.get(r) ?? 1) - 1;
      refCount.set(r, n);
      if (n === 0 && !pinnedRefs.has(r)) await unlink(r);
    }
  }
  const lastOf = new Map<string, number>();
  for (const u of units) if (!u.root && !removed.has(u)) lastOf.set(u.digest, Math.max(lastOf.get(u.digest) ?? 0, u.last));
  const orphans = [...lastOf.keys()].filter((d) => (refCount.get(d) ?? 0) === 0 && !pinnedRefs.has(d));
  for (const d of orphans.sort((a, b) => (lastOf.get(a) ?? 0) - (lastOf.get(b) ?? 0))) {
    if (usage <= goal) break;
    await unlink(d);
  }
  const gone = async (d: Digest): Promise<void> => {
    if (used.has(d.value)) return;
    report.blobsDeleted++;
    report.evicted.push(d.value);
    if (!dryRun) await s.blobs.delete(d);
  };
  if (dryRun) for (const d of doomed) await gone(d);
  else await s.gcGate.inBatches(doomed, gone);
  if (!dryRun) for (const [repo, ds] of forget) await access.forget(repo, ds);
  report.usageAfter = usage;
  return report;
}

/** What every repo folder outside the set holds (configured or not, any format): never deleted. */
async function heldOutside(s: EvictServer, repos: string[], into: Set<string>): Promise<void> {
  for (const repo of await s.meta.list(`${LAYOUT_VERSION}/repos`)) {
    if (repos.includes(repo)) continue;
    for (const folder of await s.meta.list(layout.repoRoot(repo))) {
      if (folder.startsWith('_')) continue;
      const format = formatOf(folder);
      // Content of a format this build does not know: keep every blob rather than guess.
      if (!format) throw new Error(`eviction: repo ${repo} has a folder "${folder}" of no known format`);
      await format.store.held(s, repo, into);
    }
  }
}
