import type { RepoConfig } from '../../config/schema.ts';
import { parseDigest } from '../../storage/digest.ts';
import { globToRegExp } from '../../util/glob.ts';
import { fileUnit } from '../format.ts';
import type { CacheUnit, FormatStore, StoreAccess } from '../format.ts';
import { walkFiles } from './files.ts';

/**
 * Generic's half of the storage jobs: every file document keeps its content alive (gc), is a
 * root unit of a remote repo's cache (eviction; pinned by path patterns), and must have its bytes
 * in the store (fsck).
 */
export const genericStore: FormatStore = {
  async mark(s, repo, into) {
    let documents = 0;
    await walkFiles(s.meta, repo, async (_path, doc) => {
      documents++;
      into.add(String(doc.digest));
    });
    return { documents };
  },
  async held(s, repo, into) {
    await walkFiles(s.meta, repo, async (_path, doc) => void into.add(String(doc.digest)));
  },
  async check(s: StoreAccess, repo: string) {
    let files = 0;
    const problems: string[] = [];
    await walkFiles(s.meta, repo, async (path, doc) => {
      files++;
      const d = parseDigest(String(doc.digest));
      if (!d.ok) problems.push(`${repo}/${path.join('/')}: file document names no valid digest`);
      else if (!(await s.blobs.stat(d.digest))) problems.push(`${repo}/${path.join('/')}: content ${d.digest.value} is missing`);
    });
    return { counts: { files }, problems };
  },
  async units(s: StoreAccess, repo: string, times: Map<string, number>, cfg: RepoConfig | undefined): Promise<CacheUnit[]> {
    const pins = cfg?.format === 'generic' && cfg.type === 'remote' ? cfg.cache.pin.map(globToRegExp) : [];
    const out: CacheUnit[] = [];
    await walkFiles(s.meta, repo, async (path, doc, key) => {
      const p = path.join('/');
      out.push(fileUnit(s, repo, key, { ...doc, digest: String(doc.digest) }, times, pins.some((r) => r.test(p))));
    });
    return out;
  },
};
