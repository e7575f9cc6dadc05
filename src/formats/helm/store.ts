import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { fileUnit } from '../format.ts';
import type { CacheUnit, FormatStore } from '../format.ts';
import type { SnapshotDoc } from './journal.ts';
import { helmLayout } from './layout.ts';
import type { BlobRef, ChartDoc, HelmFileDoc, RemoteIndexDoc } from './layout.ts';

/**
 * Every blob a Helm repo's documents name: `kind` says which (a hosted chart's archive or
 * provenance file, a remote's index blobs, a cached file); fn gets the document key.
 */
async function walk(meta: MetaStore, repo: string, fn: (ref: BlobRef, key: string, kind: 'chart' | 'index' | 'file', storedAt: number) => Promise<void>): Promise<void> {
  const charts = helmLayout.charts(repo);
  for (const n of await meta.list(charts)) {
    for (const v of await meta.list(`${charts}/${n}`)) {
      const doc = await meta.get<ChartDoc>(`${charts}/${n}/${v}`, { remember: false });
      if (!doc) continue;
      await fn(doc, `${charts}/${n}/${v}`, 'chart', doc.storedAt);
      if (doc.prov) await fn(doc.prov, `${charts}/${n}/${v}`, 'chart', doc.storedAt);
    }
  }
  const snapshot = await meta.get<SnapshotDoc>(helmLayout.snapshot(repo), { remember: false });
  if (snapshot) await fn(snapshot.data, helmLayout.snapshot(repo), 'index', 0);
  const index = await meta.get<RemoteIndexDoc>(helmLayout.index(repo));
  if (index) {
    await fn(index.data, helmLayout.index(repo), 'index', index.fetchedAt);
    await fn(index.rendered, helmLayout.index(repo), 'index', index.fetchedAt);
  }
  const files = helmLayout.files(repo);
  for (const f of await meta.list(files)) {
    const doc = await meta.get<HelmFileDoc>(`${files}/${f}`);
    if (doc) await fn(doc, `${files}/${f}`, 'file', doc.storedAt);
  }
}

/**
 * Helm's half of the storage jobs: hosted charts and a remote's index keep their blobs (gc) and
 * are never evicted; a remote's cached archives and provenance files are root units of its cache.
 */
export const helmStore: FormatStore = {
  async mark(s, repo, into) {
    let documents = 0;
    await walk(s.meta, repo, async (ref) => {
      documents++;
      into.add(ref.digest);
    });
    return { documents };
  },
  async held(s, repo, into) {
    await walk(s.meta, repo, async (ref) => void into.add(ref.digest));
  },
  async check(s, repo) {
    let files = 0;
    const problems: string[] = [];
    await walk(s.meta, repo, async (ref, key) => {
      files++;
      const d = parseDigest(ref.digest);
      if (!d.ok || !(await s.blobs.stat(d.digest))) problems.push(`${repo}: ${key} names content that is missing`);
    });
    return { counts: { files }, problems };
  },
  async units(s, repo, times) {
    const out: CacheUnit[] = [];
    await walk(s.meta, repo, async (ref, key, kind, storedAt) => {
      if (kind === 'file') out.push(fileUnit(s, repo, key, { ...ref, storedAt }, times));
    });
    return out;
  },
};
