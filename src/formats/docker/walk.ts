import type { StoreAccess } from '../format.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { isForeign, looseDescriptors } from './manifest.ts';
import { layout } from './layout.ts';
import { forEachLimit } from '../../util/pool.ts';

/** Manifests are read whole by the jobs; nothing larger is one. */
export const MAX_MANIFEST = 16 * 1024 * 1024;

/**
 * Folder listings and image visits in flight at once during a walk (jobs: gc, fsck, eviction,
 * quota). Kept small on purpose: the jobs run beside pushes, and Node's file I/O shares 4 threads.
 * 16 images × 16 reads each took a gc of small images from 53 to 23 ms but raised push p99 during
 * an online gc at 50k manifests from ~60 to 353 ms; 4 × 4 keeps the 16 reads in flight the mark had.
 */
const WALK_IO = 4;

/**
 * Every image folder under a repo's docker root (folders nest by name segment), found a level at a
 * time with bounded I/O, sorted. One folder after another, a gc of 100 small images spent most of
 * its time waiting on single listings.
 */
export async function imageDirs(s: { meta: MetaStore }, root: string): Promise<string[]> {
  const found: string[] = [];
  let level = [root];
  for (let depth = 0; level.length > 0 && depth <= 32; depth++) {
    const next: string[] = [];
    await forEachLimit(level, WALK_IO, async (dir) => {
      const children = await s.meta.list(dir);
      if (depth > 0 && children.some((c) => c === '_manifests' || c === '_layers' || c === '_tags')) found.push(dir);
      for (const c of children) if (!c.startsWith('_')) next.push(`${dir}/${c}`);
    });
    level = next;
  }
  return found.sort();
}

/**
 * Calls fn for every image folder under a repo's docker root, `concurrency` images at a time (1 for
 * callers whose output order or writes must follow the folders' order). fn bounds its own I/O, so
 * at most WALK_IO × its bound are in flight (the Docker jobs: 4 × 4).
 */
export async function walkImages(s: { meta: MetaStore }, root: string, fn: (imageDir: string) => Promise<void>, concurrency = WALK_IO): Promise<void> {
  await forEachLimit(await imageDirs(s, root), concurrency, fn);
}

/** Digests stored as `<dir>/<alg>/<hex>` entries. */
export async function digestsUnder(s: { meta: MetaStore }, dir: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const alg of await s.meta.list(dir)) {
    for (const hex of await s.meta.list(`${dir}/${alg}`)) {
      const d = parseDigest(`${alg}:${hex}`);
      if (d.ok) out.push(d.digest);
    }
  }
  return out;
}

/**
 * Digests a manifest points at, read leniently (any format, cached or pushed): config, layers,
 * an index's manifests, and `blobs` of older artifact manifests. A manifest that does not parse
 * references nothing here; for remote repos the blob links keep its layers.
 */
export function referenced(bytes: Uint8Array | null, requiredOnly = false): string[] {
  // Foreign (non-distributable) layers live at their `urls`, never in a registry: not required.
  return looseDescriptors(bytes)
    .filter((d) => !(requiredOnly && d.mediaType !== undefined && isForeign(d.mediaType, d.urls)))
    .map((d) => d.digest);
}

/** Everything a repo's docker folder links or references. */
export async function heldBy(s: StoreAccess, repo: string, into: Set<string>): Promise<void> {
  const root = layout.dockerRepoDir(repo);
  for (const d of await digestsUnder(s, `${root}/_blobs`)) into.add(d.value);
  await walkImages(s, root, async (imageDir) => {
    for (const l of await digestsUnder(s, `${imageDir}/_layers`)) into.add(l.value);
    // Manifests read several at a time: gc's mark holds the exclusive lock for as long as this takes.
    await forEachLimit(await digestsUnder(s, `${imageDir}/_manifests`), 4, async (m) => {
      into.add(m.value);
      for (const r of referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null))) into.add(r);
    });
  });
}
