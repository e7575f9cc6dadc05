import type { RepoConfig } from '../config/schema.ts';
import { parseDigest } from '../storage/digest.ts';
import { fileUnit } from './format.ts';
import type { CacheUnit, FormatStore, StoreAccess } from './format.ts';

/** One document of a document-per-file format: the blob it names, where it is, and its role. */
export interface StoredDoc {
  digest: string;
  size: number;
  storedAt: number;
  /** The document's key (removed when its unit is evicted). */
  key: string;
  /** What fsck names in a problem (a path, a module file). */
  label: string;
  /** A cached file of a remote (an eviction unit) rather than hosted content or an index (kept). */
  cached: boolean;
  /** For cached files: the path eviction pins match against. */
  pinPath?: string;
}

/**
 * The kit's storage-job half for formats whose documents each name one blob (generic files, Go
 * module files, Helm charts; npm tarballs, PyPI files, crates next): gc marks every named digest,
 * eviction of other repos keeps them, fsck checks each blob is there, and a remote's cached files
 * are root units of its cache. The format gives only its walk over the repo folder, and (optional)
 * the pin patterns of a repo's config.
 */
export function docStore(walk: (s: StoreAccess, repo: string, fn: (d: StoredDoc) => Promise<void>) => Promise<void>, pins?: (cfg: RepoConfig | undefined) => RegExp[]): FormatStore {
  return {
    async mark(s, repo, into) {
      let documents = 0;
      await walk(s, repo, async (d) => {
        documents++;
        into.add(d.digest);
      });
      return { documents };
    },
    async held(s, repo, into) {
      await walk(s, repo, async (d) => void into.add(d.digest));
    },
    async check(s, repo) {
      let files = 0;
      const problems: string[] = [];
      await walk(s, repo, async (d) => {
        files++;
        const p = parseDigest(d.digest);
        if (!p.ok) problems.push(`${repo}: ${d.label}: the document names no valid digest`);
        else if (!(await s.blobs.stat(p.digest))) problems.push(`${repo}: ${d.label}: content ${p.digest.value} is missing`);
      });
      return { counts: { files }, problems };
    },
    async units(s, repo, times, cfg): Promise<CacheUnit[]> {
      const patterns = pins?.(cfg) ?? [];
      const out: CacheUnit[] = [];
      await walk(s, repo, async (d) => {
        if (!d.cached) return;
        const pinned = d.pinPath !== undefined && patterns.some((r) => r.test(d.pinPath ?? ''));
        out.push(fileUnit(s, repo, d.key, d, times, pinned));
      });
      return out;
    },
  };
}
