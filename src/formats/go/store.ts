import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { fileUnit } from '../format.ts';
import type { CacheUnit, FormatStore } from '../format.ts';
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
 * Go's half of the storage jobs: each cached module file keeps its blob alive (gc), is a root unit
 * of the cache (eviction: a module version's files are independent), and must have its bytes (fsck).
 */
export const goStore: FormatStore = {
  async mark(s, repo, into) {
    let documents = 0;
    await walkFiles(s.meta, repo, async (doc) => {
      documents++;
      into.add(String(doc.digest));
    });
    return { documents };
  },
  async held(s, repo, into) {
    await walkFiles(s.meta, repo, async (doc) => void into.add(String(doc.digest)));
  },
  async check(s, repo) {
    let files = 0;
    const problems: string[] = [];
    await walkFiles(s.meta, repo, async (doc, key) => {
      files++;
      const d = parseDigest(String(doc.digest));
      if (!d.ok || !(await s.blobs.stat(d.digest))) problems.push(`${repo}: ${key} names content that is missing`);
    });
    return { counts: { files }, problems };
  },
  async units(s, repo, times) {
    const out: CacheUnit[] = [];
    await walkFiles(s.meta, repo, async (doc, key) => void out.push(fileUnit(s, repo, key, { ...doc, digest: String(doc.digest) }, times)));
    return out;
  },
};
