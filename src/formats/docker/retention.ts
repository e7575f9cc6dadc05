import type { Logger } from '../../log.ts';
import type { RetentionSummary } from '../format.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { DockerLocalConfig, RetentionConfig } from './config.ts';
import { ImageFilter } from './image-filter.ts';
import { layout } from './layout.ts';
import type { DockerLocal } from './local.ts';
import type { TagDoc } from './manifest-fetch.ts';
import { MAX_MANIFEST, referenced, walkImages } from './walk.ts';

export interface TagInfo {
  tag: string;
  digest: string;
  /** When the tag was last pushed (ms). */
  pushedAt: number;
}

export interface RetentionResult extends RetentionSummary {
  repo: string;
  image: string;
  keptTags: string[];
  deletedTags: string[];
  /** Manifests only the deleted tags reached (index children, their signatures and other referrers). */
  deletedManifests: string[];
}

const DAY_MS = 86_400_000;
/** The referrers tag schema of the OCI distribution spec: `<alg>-<hex>`, often with a suffix. */
const ATTACHMENT = /^(sha256|sha512)-([a-f0-9]{64}|[a-f0-9]{128})(?:\..*)?$/;

/**
 * Which tags a policy keeps: protected ones, the `keepLast` most recently pushed, and those pushed
 * within `keepDays`; a tag any of these keeps is kept (Harbor's retain rules combine the same way).
 */
export function planTags(tags: TagInfo[], rule: RetentionConfig, now: number): { keep: TagInfo[]; remove: TagInfo[] } {
  const protect = new ImageFilter(rule.protect, []);
  const newest = [...tags].sort((a, b) => b.pushedAt - a.pushedAt || (a.tag < b.tag ? -1 : 1));
  const keep: TagInfo[] = [];
  const remove: TagInfo[] = [];
  newest.forEach((t, i) => {
    const kept =
      (rule.protect.length > 0 && protect.allows(t.tag)) || i < rule.keepLast || (rule.keepDays > 0 && now - t.pushedAt < rule.keepDays * DAY_MS);
    (kept ? keep : remove).push(t);
  });
  return { keep, remove };
}

type RetentionServer = { meta: MetaStore; blobs: BlobStore; log: Logger };

/**
 * Applies a local repo's retention policy: tags the policy does not keep are deleted, then the
 * manifests that only those tags reached. Manifests that were never tagged (pushed by digest) are
 * left alone. Blobs are freed by the gc that follows. Only deletes, so it never races a push into
 * losing data: each delete checks again that the tag or manifest is still as planned.
 */
export async function retainDockerRepo(s: RetentionServer, repo: DockerLocal, rc: DockerLocalConfig, now: number, dryRun: boolean): Promise<RetentionResult[]> {
  const results: RetentionResult[] = [];
  {
    if (!rc.retention) return results;
    const rule = rc.retention;
    const images = new ImageFilter(rule.images, []);
    const root = layout.dockerRepoDir(rc.name);
    await walkImages(s, root, async (imageDir) => {
      const image = imageDir.slice(root.length + 1);
      if (!images.allows(image)) return;
      const all = await tagsOf(s, imageDir);
      const attachments = all.filter((t) => ATTACHMENT.test(t.tag));
      const plan = planTags(all.filter((t) => !ATTACHMENT.test(t.tag)), rule, now);
      if (plan.remove.length === 0) return;
      const digests = (ts: TagInfo[]): string[] => ts.map((t) => t.digest);
      // The closures below walk overlapping manifests; each one's edges are read once per image.
      const edges = new Map<string, string[] | null>();
      const closure = (start: string[]): Promise<Set<string>> => reach(s, imageDir, start, edges);
      // Tag-schema attachments (`sha256-<hex>.sig` of cosign and friends) follow their subject: they
      // go only with a manifest this run deletes, and never count against keepLast.
      const kept = await closure(digests(plan.keep));
      const going = new Set([...(await closure(digests(plan.remove)))].filter((d) => !kept.has(d)));
      for (const a of attachments) (going.has(a.tag.replace(ATTACHMENT, '$1:$2')) ? plan.remove : plan.keep).push(a);
      const reachable = await closure(digests(plan.keep));
      const orphaned = [...(await closure(digests(plan.remove)))].filter((d) => !reachable.has(d));
      const result: RetentionResult = { repo: rc.name, removed: 0, image, keptTags: plan.keep.map((t) => t.tag), deletedTags: [], deletedManifests: [] };
      for (const t of plan.remove) {
        if (dryRun || (await repo.retention.removeTag(image, t.tag, t.digest))) result.deletedTags.push(t.tag);
      }
      for (const d of orphaned) {
        const p = parseDigest(d);
        if (p.ok && (dryRun || (await repo.retention.removeUntagged(image, p.digest)))) result.deletedManifests.push(d);
      }
      result.removed = result.deletedTags.length + result.deletedManifests.length;
      results.push(result);
    }, 1);
  }
  if (!dryRun && results.length > 0) {
    const tags = results.reduce((a, r) => a + r.deletedTags.length, 0);
    s.log.info('retention applied', { images: results.length, tagsDeleted: tags, manifestsDeleted: results.reduce((a, r) => a + r.deletedManifests.length, 0) });
  }
  return results;
}

async function tagsOf(s: RetentionServer, imageDir: string): Promise<TagInfo[]> {
  const out: TagInfo[] = [];
  for (const tag of await s.meta.list(`${imageDir}/_tags`)) {
    const doc = await s.meta.get<TagDoc>(`${imageDir}/_tags/${tag}`);
    if (doc && typeof doc.digest === 'string') out.push({ tag, digest: doc.digest, pushedAt: Number(doc.fetchedAt) || 0 });
  }
  return out;
}

/**
 * The manifests of this image that the given ones reach: themselves, the children of indexes, and
 * the referrers (signatures, SBOMs) of every manifest reached, recursively. `edges` memoises what
 * each manifest points at (null: not a manifest of this image).
 */
async function reach(s: RetentionServer, imageDir: string, start: string[], edges: Map<string, string[] | null>): Promise<Set<string>> {
  const seen = new Set<string>();
  const todo = [...start];
  for (let d = todo.pop(); d !== undefined; d = todo.pop()) {
    if (seen.has(d)) continue;
    let next = edges.get(d);
    if (next === undefined) {
      next = await edgesOf(s, imageDir, d);
      edges.set(d, next);
    }
    if (next === null) continue;
    seen.add(d);
    todo.push(...next);
  }
  return seen;
}

async function edgesOf(s: RetentionServer, imageDir: string, d: string): Promise<string[] | null> {
  const p = parseDigest(d);
  if (!p.ok || !(await s.meta.exists(`${imageDir}/_manifests/${p.digest.algorithm}/${p.digest.hex}`))) return null;
  const out = referenced(await s.blobs.readAll(p.digest, MAX_MANIFEST).catch(() => null));
  for (const entry of await s.meta.list(`${imageDir}/_referrers/${p.digest.algorithm}/${p.digest.hex}`)) out.push(entry.replace('-', ':'));
  return out;
}
