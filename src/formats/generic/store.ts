import { globToRegExp } from '../../util/glob.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { walkFiles } from './files.ts';

/**
 * Generic's half of the storage jobs (the kit's docStore): every file document keeps its content
 * alive (gc), is a root unit of a remote repo's cache (eviction; pinned by path patterns), and
 * must have its bytes in the store (fsck).
 */
export const genericStore: FormatStore = docStore(
  (s, repo, fn) =>
    walkFiles(s.meta, repo, async (path, doc, key) => {
      const p = path.join('/');
      await fn({ digest: String(doc.digest), size: doc.size, storedAt: doc.storedAt, key, label: `/${p}`, cached: true, pinPath: p });
    }),
  (cfg) => (cfg?.format === 'generic' && cfg.type === 'remote' ? cfg.cache.pin.map(globToRegExp) : []),
);
