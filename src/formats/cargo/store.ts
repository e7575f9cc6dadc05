import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { BlobDoc } from '../blob-doc.ts';
import { docStore } from '../doc-store.ts';
import type { StoredDoc } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { cargoLayout } from './layout.ts';
import type { CachedCrateDoc, CrateRecord, RemoteIndexDoc } from './layout.ts';

/** Every blob a Cargo repo's documents name: hosted records and their crates (kept), a remote's index files held as blobs (kept: fetched again when stale; most are inline in their documents) and cached crates (eviction units). */
async function walk(meta: MetaStore, read: (ref: { digest: string; size: number }) => Promise<CrateRecord | null>, repo: string, fn: (d: StoredDoc) => Promise<void>): Promise<void> {
  const crates = cargoLayout.crates(repo);
  for (const k of await meta.list(crates)) {
    const key = `${crates}/${k}`;
    const doc = await meta.get<BlobDoc>(key, { remember: false });
    if (!doc) continue;
    await fn({ digest: doc.blob.digest, size: doc.blob.size, storedAt: doc.created, key, label: key, cached: false });
    const rec = await read(doc.blob);
    for (const v of rec?.versions ?? []) await fn({ digest: v.crate.digest, size: v.crate.size, storedAt: v.at, key, label: `${key} ${v.entry.vers}`, cached: false });
  }
  const indexes = cargoLayout.indexes(repo);
  for (const k of await meta.list(indexes)) {
    const doc = await meta.get<RemoteIndexDoc>(`${indexes}/${k}`, { remember: false });
    if (doc?.blob) await fn({ digest: doc.blob.digest, size: doc.blob.size, storedAt: doc.fetchedAt, key: `${indexes}/${k}`, label: `${indexes}/${k}`, cached: false });
  }
  const files = cargoLayout.files(repo);
  for (const n of await meta.list(files)) {
    for (const v of await meta.list(`${files}/${n}`)) {
      const key = `${files}/${n}/${v}`;
      const doc = await meta.get<CachedCrateDoc>(key, { remember: false });
      if (doc) await fn({ digest: doc.digest, size: doc.size, storedAt: doc.storedAt, key, label: key, cached: true });
    }
  }
}

/** Cargo's half of the storage jobs (the kit's docStore). */
export const cargoStore: FormatStore = docStore((s, repo, fn) =>
  walk(
    s.meta,
    async (ref) => {
      const dg = parseDigest(ref.digest);
      const bytes = dg.ok ? await s.blobs.readAll(dg.digest, ref.size) : null;
      return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as CrateRecord) : null;
    },
    repo,
    fn,
  ),
);
