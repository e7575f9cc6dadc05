import type { MetaStore } from '../../storage/meta-store.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { npmLayout } from './layout.ts';
import type { BlobRef, PackageDoc, RemoteMetaDoc, TarballDoc } from './layout.ts';

/** Every blob an npm repo's documents name; `cached`: a remote's tarball (an eviction unit). */
async function walk(meta: MetaStore, repo: string, fn: (ref: BlobRef, key: string, cached: boolean, storedAt: number) => Promise<void>): Promise<void> {
  const packages = npmLayout.packages(repo);
  for (const n of await meta.list(packages)) {
    const doc = await meta.get<PackageDoc>(`${packages}/${n}`, { remember: false });
    if (doc) await fn(doc.blob, `${packages}/${n}`, false, doc.created);
  }
  const metas = npmLayout.metas(repo);
  for (const n of await meta.list(metas)) {
    const doc = await meta.get<RemoteMetaDoc>(`${metas}/${n}`, { remember: false });
    if (!doc) continue;
    for (const ref of [doc.full, doc.abbreviated, doc.files]) await fn(ref, `${metas}/${n}`, false, doc.fetchedAt);
  }
  const tarballs = npmLayout.tarballs(repo);
  for (const n of await meta.list(tarballs)) {
    for (const f of await meta.list(`${tarballs}/${n}`)) {
      const doc = await meta.get<TarballDoc>(`${tarballs}/${n}/${f}`, { remember: false });
      // Hosted tarballs carry their version; a remote's cached ones do not.
      if (doc) await fn(doc, `${tarballs}/${n}/${f}`, doc.version === undefined, doc.storedAt);
    }
  }
}

/**
 * npm's half of the storage jobs (the kit's docStore): hosted packuments and tarballs, and a
 * remote's packument blobs, are kept (gc) and never evicted; a remote's cached tarballs are root
 * units of its cache (a packument goes stale and is fetched again; a tarball is the bulk).
 */
export const npmStore: FormatStore = docStore((s, repo, fn) =>
  walk(s.meta, repo, (ref, key, cached, storedAt) => fn({ digest: ref.digest, size: ref.size, storedAt, key, label: key, cached })),
);
