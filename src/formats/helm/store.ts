import type { MetaStore } from '../../storage/meta-store.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
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
 * Helm's half of the storage jobs (the kit's docStore): hosted charts and a remote's index keep
 * their blobs (gc) and are never evicted; a remote's cached archives and provenance files are root
 * units of its cache.
 */
export const helmStore: FormatStore = docStore((s, repo, fn) =>
  walk(s.meta, repo, (ref, key, kind, storedAt) => fn({ digest: ref.digest, size: ref.size, storedAt, key, label: key, cached: kind === 'file' })),
);
