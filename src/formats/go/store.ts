import type { MetaStore } from '../../storage/meta-store.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { goLayout } from './layout.ts';
import type { GoFileDoc } from './layout.ts';

/**
 * Calls fn for every cached .info, .mod and .zip document of a repo's go folder, and every kept
 * checksum-database lookup and tile (`_sumdb/<db>/lookup/…/_l/<version>`, `_sumdb/<db>/tile/<L>/<K>[.p]`).
 */
async function walkFiles(meta: MetaStore, repo: string, fn: (doc: GoFileDoc, key: string) => Promise<void>): Promise<void> {
  const visit = async (key: string): Promise<void> => {
    const doc = await meta.get<GoFileDoc>(key, { remember: false });
    if (doc) await fn(doc, key);
  };
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 64) return;
    for (const n of await meta.list(dir)) {
      if (n === '_sumdb' && depth === 0) {
        await walkSumdb(meta, `${dir}/_sumdb`, visit);
      } else if (n === '_l' && dir.includes('/_sumdb/')) {
        for (const f of await meta.list(`${dir}/_l`)) await visit(`${dir}/_l/${f}`);
      } else if (n === '_v') {
        for (const f of await meta.list(`${dir}/_v`)) {
          if (!/\.(info|mod|zip)$/.test(f)) continue;
          const doc = await meta.get<GoFileDoc>(`${dir}/_v/${f}`);
          if (doc) await fn(doc, `${dir}/_v/${f}`);
        }
      } else {
        await walk(`${dir}/${n}`, depth + 1);
      }
    }
  };
  await walk(goLayout.root(repo), 0);

  async function walkSumdb(m: MetaStore, root: string, each: (key: string) => Promise<void>): Promise<void> {
    for (const db of await m.list(root)) {
      await walk(`${root}/${db}/lookup`, 1);
      for (const level of await m.list(`${root}/${db}/tile`)) {
        for (const t of await m.list(`${root}/${db}/tile/${level}`)) await each(`${root}/${db}/tile/${level}/${t}`);
      }
    }
  }
}

/**
 * Go's half of the storage jobs (the kit's docStore): each cached module file keeps its blob alive
 * (gc), is a root unit of the cache (eviction: a module version's files are independent), and must
 * have its bytes (fsck).
 */
export const goStore: FormatStore = docStore((s, repo, fn) =>
  walkFiles(s.meta, repo, (doc, key) => fn({ digest: String(doc.digest), size: doc.size, storedAt: doc.storedAt, key, label: key, cached: true })),
);
