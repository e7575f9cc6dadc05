import { RegistryError } from '../../errors.ts';
import { layout } from './layout.ts';
import { imageDirs } from './walk.ts';
import { forEachLimit } from '../../util/pool.ts';
import type { MetaStore } from '../../storage/meta-store.ts';

/**
 * Image names stored under a repo: every folder that has tags, manifests or blobs. Names are folders
 * nested by '/', and the `_`-prefixed folders are ours, never part of a name. The walk visits every
 * image folder, so its result is remembered until the next write (MetaStore.derived): the pages of
 * a catalog walk cost O(page) each, not a walk each. Shared: callers must not mutate it.
 */
export function listImages(meta: MetaStore, repo: string): Promise<readonly string[]> {
  return meta.derived(`docker-images:${repo}`, () => walkImages(meta, repo), (names) => names.reduce((a, n) => a + n.length + 16, 0));
}

async function walkImages(meta: MetaStore, repo: string): Promise<string[]> {
  const root = layout.dockerRepoDir(repo);
  const out: string[] = [];
  // A folder left with empty tag, manifest and layer folders (all deleted) is no image any more.
  await forEachLimit(await imageDirs({ meta }, root), 16, async (dir) => {
    for (const sub of ['_tags', '_manifests', '_layers']) {
      if ((await meta.listView(`${dir}/${sub}`)).length > 0) {
        out.push(dir.slice(root.length + 1));
        return;
      }
    }
  });
  return out.sort(lexical);
}

/** Byte-wise order, as the distribution spec asks for tag and catalog lists. */
export function lexical(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Page {
  items: string[];
  /** The `last` value for the next page, when there is one. */
  next?: string;
}

/** `n`/`last` pagination over a sorted list; n absent = everything after `last`. */
export function paginate(sorted: readonly string[], nParam: string | undefined, last: string | undefined): Page {
  let n: number | undefined;
  if (nParam !== undefined && nParam !== '') {
    if (!/^\d{1,9}$/.test(nParam)) {
      throw new RegistryError('invalid', 'n must be a non-negative integer', { code: 'PAGINATION_NUMBER_INVALID' });
    }
    n = Number(nParam);
  }
  // The first name after `last`, by binary search: a page costs O(log n + page), not O(n).
  let lo = 0;
  if (last) {
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((sorted[mid] as string) <= last) lo = mid + 1;
      else hi = mid;
    }
  }
  // Copy only the page: the list may be a shared, remembered listing (MetaStore.listView).
  if (n === undefined || sorted.length - lo <= n) return { items: sorted.slice(lo) };
  const items = sorted.slice(lo, lo + n);
  const tail = items[items.length - 1];
  return tail === undefined ? { items } : { items, next: tail };
}

/** Merges sorted lists from several members into one sorted list without duplicates. */
export function mergeSorted(lists: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(lists.flat())].sort(lexical);
}
