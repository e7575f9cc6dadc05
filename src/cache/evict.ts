import type { LinkDoc } from '../formats/docker/local.ts';
import type { ManifestDoc, TagDoc } from '../formats/docker/manifest-fetch.ts';
import { MAX_MANIFEST, digestsUnder, heldBy, referenced, walkImages } from '../gc.ts';
import type { GcServer } from '../gc.ts';
import { LAYOUT_VERSION, layout } from '../storage/layout.ts';
import type { Digest } from '../storage/digest.ts';
import { imageTagMatcher } from '../util/glob.ts';
import { pushTo } from '../util/maps.ts';
import type { AccessLog } from './access.ts';

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
  manifests: number;
  tags: number;
  blobsUnlinked: number;
  blobsDeleted: number;
  bytesFreed: number;
  evicted: string[];
}

interface Unit {
  repo: string;
  imageDir: string;
  digest: Digest;
  size: number;
  last: number;
  refs: string[];
}

/** `image:tag` patterns (util/glob.ts: `*` within a segment, `**` across); a matching tag and what it points at stay. */
export const pinMatcher = imageTagMatcher;

/**
 * Least-recently-used eviction over a set of remote repos under one budget (one repo's own, or the
 * global one over all of them). Manifests go first, oldest access first, with their tags; then a
 * blob that no remaining manifest of the set references is unlinked, and its file deleted unless
 * something outside the set (another repo, a local image) holds it. Blobs never referenced by a
 * manifest go last, also by age. Pinned tags, and everything they reach, are never touched.
 */
export async function evict(
  s: GcServer,
  access: AccessLog,
  repos: string[],
  allRepos: string[],
  budget: Budget,
  pins: Map<string, (image: string, tag: string) => boolean>,
  dryRun: boolean,
): Promise<EvictReport> {
  const report: EvictReport = { repos, dryRun, usageBefore: 0, usageAfter: 0, manifests: 0, tags: 0, blobsUnlinked: 0, blobsDeleted: 0, bytesFreed: 0, evicted: [] };
  const units: Unit[] = [];
  const blobSize = new Map<string, number>();
  const blobRepos = new Map<string, Set<string>>();
  const blobLast = new Map<string, number>();
  const pinned = new Set<string>();
  const tagsOf = new Map<string, Array<{ key: string; digest: string }>>();
  for (const repo of repos) {
    const times = await access.times(repo);
    const root = layout.dockerRepoDir(repo);
    for (const d of await digestsUnder(s, `${root}/_blobs`)) {
      const link = await s.meta.get<LinkDoc>(`${root}/_blobs/${d.algorithm}/${d.hex}`);
      blobSize.set(d.value, link?.size ?? 0);
      blobRepos.set(d.value, (blobRepos.get(d.value) ?? new Set()).add(repo));
      blobLast.set(d.value, Math.max(blobLast.get(d.value) ?? 0, times.get(d.value) ?? link?.linkedAt ?? 0));
    }
    const isPinned = pins.get(repo);
    await walkImages(s, root, async (imageDir) => {
      const image = imageDir.slice(root.length + 1);
      const tags: Array<{ key: string; digest: string }> = [];
      for (const t of await s.meta.list(`${imageDir}/_tags`)) {
        const doc = await s.meta.get<TagDoc>(`${imageDir}/_tags/${t}`);
        if (!doc) continue;
        tags.push({ key: `${imageDir}/_tags/${t}`, digest: doc.digest });
        if (isPinned?.(image, t)) pinned.add(`${imageDir}@${doc.digest}`);
      }
      tagsOf.set(imageDir, tags);
      for (const m of await digestsUnder(s, `${imageDir}/_manifests`)) {
        const doc = await s.meta.get<ManifestDoc>(`${imageDir}/_manifests/${m.algorithm}/${m.hex}`);
        const refs = referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null));
        units.push({ repo, imageDir, digest: m, size: doc?.size ?? 0, last: times.get(m.value) ?? doc?.fetchedAt ?? 0, refs });
      }
    });
  }
  // Pins reach through indexes to their platform manifests.
  const unitKeys = new Set(units.map((u) => `${u.imageDir}@${u.digest.value}`));
  for (let grew = true; grew; ) {
    grew = false;
    for (const u of units) {
      if (!pinned.has(`${u.imageDir}@${u.digest.value}`)) continue;
      for (const r of u.refs) {
        const key = `${u.imageDir}@${r}`;
        if (!pinned.has(key) && unitKeys.has(key)) {
          pinned.add(key);
          grew = true;
        }
      }
    }
  }
  const manifestHolders = new Map<string, number>();
  for (const u of units) manifestHolders.set(u.digest.value, (manifestHolders.get(u.digest.value) ?? 0) + 1);
  const refCount = new Map<string, number>();
  for (const u of units) for (const r of u.refs) refCount.set(r, (refCount.get(r) ?? 0) + 1);
  const pinnedRefs = new Set(units.filter((u) => pinned.has(`${u.imageDir}@${u.digest.value}`)).flatMap((u) => u.refs));
  let usage = [...blobSize.values()].reduce((a, b) => a + b, 0) + [...new Map(units.map((u) => [u.digest.value, u.size])).values()].reduce((a, b) => a + b, 0);
  report.usageBefore = usage;
  report.usageAfter = usage;
  if (usage <= budget.maxBytes * budget.high) return report;

  const external = new Set<string>();
  for (const r of allRepos) if (!repos.includes(r)) await heldBy(s, r, external);
  await unconfiguredHolds(s, allRepos, external);
  const goal = budget.maxBytes * budget.low;
  const forget = new Map<string, string[]>();
  const drop = async (d: string, size: number): Promise<void> => {
    usage -= size;
    report.bytesFreed += size;
    if (external.has(d)) return;
    report.blobsDeleted++;
    report.evicted.push(d);
    const [alg, hex] = d.split(':') as ['sha256' | 'sha512', string];
    if (!dryRun) await s.blobs.delete({ algorithm: alg, hex, value: d });
  };
  const unlinkBlob = async (d: string): Promise<void> => {
    const holders = blobRepos.get(d);
    if (!holders) return;
    for (const repo of holders) {
      report.blobsUnlinked++;
      pushTo(forget, repo, d);
      const [alg, hex] = d.split(':');
      if (!dryRun) await s.meta.delete(`${layout.dockerRepoDir(repo)}/_blobs/${alg}/${hex}`);
    }
    blobRepos.delete(d);
    await drop(d, blobSize.get(d) ?? 0);
  };
  for (const u of units.filter((x) => !pinned.has(`${x.imageDir}@${x.digest.value}`)).sort((a, b) => a.last - b.last)) {
    if (usage <= goal) break;
    for (const t of (tagsOf.get(u.imageDir) ?? []).filter((x) => x.digest === u.digest.value)) {
      report.tags++;
      if (!dryRun) await s.meta.delete(t.key);
    }
    report.manifests++;
    pushTo(forget, u.repo, u.digest.value);
    if (!dryRun) await s.meta.delete(`${u.imageDir}/_manifests/${u.digest.algorithm}/${u.digest.hex}`);
    const left = (manifestHolders.get(u.digest.value) ?? 1) - 1;
    manifestHolders.set(u.digest.value, left);
    if (left === 0 && (refCount.get(u.digest.value) ?? 0) === 0) await drop(u.digest.value, u.size);
    for (const r of u.refs) {
      const n = (refCount.get(r) ?? 1) - 1;
      refCount.set(r, n);
      if (n === 0 && !pinnedRefs.has(r)) await unlinkBlob(r);
    }
  }
  const orphans = [...blobRepos.keys()].filter((d) => (refCount.get(d) ?? 0) === 0 && !pinnedRefs.has(d));
  for (const d of orphans.sort((a, b) => (blobLast.get(a) ?? 0) - (blobLast.get(b) ?? 0))) {
    if (usage <= goal) break;
    await unlinkBlob(d);
  }
  if (!dryRun) for (const [repo, ds] of forget) await access.forget(repo, ds);
  report.usageAfter = usage;
  return report;
}

/** Repo folders on disk that are no longer configured keep their content. */
async function unconfiguredHolds(s: GcServer, allRepos: string[], into: Set<string>): Promise<void> {
  for (const r of await s.meta.list(`${LAYOUT_VERSION}/repos`)) if (!allRepos.includes(r)) await heldBy(s, r, into);
}
