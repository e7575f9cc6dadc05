import type { RepoConfig } from '../../config/schema.ts';
import { parseDigest } from '../../storage/digest.ts';
import { imageTagMatcher } from '../../util/glob.ts';
import type { CacheUnit, FormatStore, MarkOptions, StoreAccess } from '../format.ts';
import { layout } from './layout.ts';
import type { LinkDoc } from './local.ts';
import type { ManifestDoc, TagDoc } from './manifest-fetch.ts';
import { forEachLimit } from '../../util/pool.ts';
import { MAX_MANIFEST, digestsUnder, heldBy, referenced, walkImages } from './walk.ts';

/** Reads in flight per image in the jobs (walkImages visits 4 images at once: 16 in all). */
const JOB_IO = 4;

/**
 * Docker's half of the storage jobs (the core's gc, fsck and eviction call these through the
 * format contract): what a repo's docker folder keeps alive, its invariants, its cache units.
 */
export const dockerStore: FormatStore = {
  mark,
  held: heldBy,
  check,
  units,
};

/**
 * gc roots of one repo folder: every manifest, what it references, remote repos' blob links (their
 * cache is the evictor's business), and layer links younger than the grace period (a push may be
 * about to use them; an upload moved into place keeps its old mtime, so the link is what protects
 * it). Older layer links that no manifest references are handed to `opts.drop`.
 */
async function mark(s: StoreAccess, repo: string, into: Set<string>, opts: MarkOptions): Promise<{ documents: number }> {
  let documents = 0;
  const root = layout.dockerRepoDir(repo);
  for (const d of await digestsUnder(s, `${root}/_blobs`)) into.add(d.value);
  await walkImages(s, root, async (imageDir) => {
    const refs = new Set<string>();
    await forEachLimit(await digestsUnder(s, `${imageDir}/_manifests`), JOB_IO, async (m) => {
      documents++;
      into.add(m.value);
      refs.add(m.value);
      for (const r of referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null))) refs.add(r);
    });
    const young = (link: LinkDoc | null): boolean => link !== null && opts.now - link.linkedAt < opts.graceMs;
    await forEachLimit(await digestsUnder(s, `${imageDir}/_layers`), JOB_IO, async (l) => {
      if (refs.has(l.value)) return;
      const key = `${imageDir}/_layers/${l.algorithm}/${l.hex}`;
      if (young(await s.meta.get<LinkDoc>(key))) {
        into.add(l.value);
        return;
      }
      // Re-read at deletion time: a HEAD or a push may have renewed the link meanwhile.
      opts.drop(l.value, async () => !young(await s.meta.get<LinkDoc>(key)) && s.meta.delete(key));
    });
    for (const r of refs) into.add(r);
  });
  return { documents };
}

/**
 * Every tag points at a manifest its image has, every manifest's bytes are in the store, and every
 * blob a local image's manifest needs is there (remote repos fetch blobs lazily, so not theirs).
 */
async function check(s: StoreAccess, repo: string, local: boolean): Promise<{ counts: Record<string, number>; problems: string[] }> {
  const counts = { manifests: 0, tags: 0 };
  const problems: string[] = [];
  const root = layout.dockerRepoDir(repo);
  await walkImages(s, root, async (imageDir) => {
    const image = imageDir.slice(root.length + 1);
    const manifests = new Set<string>();
    const found = await digestsUnder(s, `${imageDir}/_manifests`);
    for (const m of found) manifests.add(m.value);
    await forEachLimit(found, JOB_IO, async (m) => {
      counts.manifests++;
      const doc = await s.meta.get<ManifestDoc>(`${imageDir}/_manifests/${m.algorithm}/${m.hex}`);
      const bytes = await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null);
      if (!doc) problems.push(`${repo}/${image}: manifest doc ${m.value} unreadable`);
      if (!bytes) {
        problems.push(`${repo}/${image}: manifest ${m.value} has no bytes in the store`);
        return;
      }
      if (!local) return;
      for (const r of referenced(bytes, true)) {
        const rd = parseDigest(r);
        if (!rd.ok) continue;
        const isManifest = await s.meta.exists(layout.dockerManifest(repo, image, rd.digest));
        if (!isManifest && !(await s.blobs.stat(rd.digest))) problems.push(`${repo}/${image}: manifest ${m.value} needs ${r}, which is missing`);
      }
    });
    await forEachLimit(await s.meta.list(`${imageDir}/_tags`), JOB_IO, async (t) => {
      counts.tags++;
      const tag = await s.meta.get<TagDoc>(`${imageDir}/_tags/${t}`);
      if (!tag) problems.push(`${repo}/${image}:${t}: tag doc unreadable`);
      else if (!manifests.has(tag.digest)) problems.push(`${repo}/${image}:${t}: points at ${tag.digest}, which this image does not have`);
    });
  });
  return { counts, problems };
}

/**
 * A remote repo's cache as eviction units: manifests (roots, by last access, with their tags) and
 * blob links (they go once no remaining manifest references them, or last by age when none ever
 * did). Pinned tags, and everything their manifests reach within the image, are pinned.
 */
async function units(s: StoreAccess, repo: string, times: Map<string, number>, cfg: RepoConfig | undefined): Promise<CacheUnit[]> {
  const out: CacheUnit[] = [];
  const root = layout.dockerRepoDir(repo);
  for (const d of await digestsUnder(s, `${root}/_blobs`)) {
    const key = `${root}/_blobs/${d.algorithm}/${d.hex}`;
    const link = await s.meta.get<LinkDoc>(key);
    out.push({
      repo,
      digest: d.value,
      size: link?.size ?? 0,
      last: times.get(d.value) ?? link?.linkedAt ?? 0,
      refs: [],
      root: false,
      kind: 'blob link',
      pinned: false,
      remove: async () => {
        await s.meta.delete(key);
        return 0;
      },
    });
  }
  const pins = cfg?.format === 'docker' && cfg.type === 'remote' ? imageTagMatcher(cfg.cache.pin) : undefined;
  await walkImages(s, root, async (imageDir) => {
    const image = imageDir.slice(root.length + 1);
    const tags: Array<{ key: string; digest: string }> = [];
    const pinned = new Set<string>();
    for (const t of await s.meta.list(`${imageDir}/_tags`)) {
      const doc = await s.meta.get<TagDoc>(`${imageDir}/_tags/${t}`);
      if (!doc) continue;
      tags.push({ key: `${imageDir}/_tags/${t}`, digest: doc.digest });
      if (pins?.(image, t)) pinned.add(doc.digest);
    }
    const manifests: CacheUnit[] = [];
    for (const m of await digestsUnder(s, `${imageDir}/_manifests`)) {
      const docKey = `${imageDir}/_manifests/${m.algorithm}/${m.hex}`;
      const doc = await s.meta.get<ManifestDoc>(docKey);
      manifests.push({
        repo,
        digest: m.value,
        size: doc?.size ?? 0,
        last: times.get(m.value) ?? doc?.fetchedAt ?? 0,
        refs: referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null)),
        root: true,
        kind: 'manifest',
        pinned: false,
        remove: async () => {
          // Tags go first: a crash in between leaves an untagged manifest, never a dangling tag.
          let n = 0;
          for (const t of tags.filter((x) => x.digest === m.value)) {
            await s.meta.delete(t.key);
            n++;
          }
          await s.meta.delete(docKey);
          return n;
        },
      });
    }
    // Pins reach through indexes to their platform manifests (within the image).
    for (let grew = pinned.size > 0; grew; ) {
      grew = false;
      for (const u of manifests) {
        if (!pinned.has(u.digest)) continue;
        for (const r of u.refs) {
          if (!pinned.has(r) && manifests.some((x) => x.digest === r)) {
            pinned.add(r);
            grew = true;
          }
        }
      }
    }
    for (const u of manifests) out.push({ ...u, pinned: pinned.has(u.digest) });
  });
  return out;
}
