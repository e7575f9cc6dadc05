import type { MetaStore } from '../../storage/meta-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { BlobDoc } from '../blob-doc.ts';
import { docStore } from '../doc-store.ts';
import type { StoredDoc } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { debLayout } from './layout.ts';
import type { CachedDebDoc, PublishedDoc, ReleaseDoc, SuiteRecord } from './layout.ts';

/**
 * Every blob a Debian repo's documents name: hosted suite records and their .deb files and the
 * published generations' index files (kept); a remote's release files (kept: fetched again when
 * stale) and its cached index and pool files (eviction units).
 */
async function walk(meta: MetaStore, read: (ref: { digest: string; size: number }) => Promise<SuiteRecord | null>, repo: string, fn: (d: StoredDoc) => Promise<void>): Promise<void> {
  const suites = debLayout.suites(repo);
  for (const k of (await Promise.all((await meta.list(suites)).map(async (s) => (await meta.list(`${suites}/${s}`)).map((sh) => `${s}/${sh}`)))).flat()) {
    const key = `${suites}/${k}`;
    const doc = await meta.get<BlobDoc>(key, { remember: false });
    if (!doc) continue;
    await fn({ digest: doc.blob.digest, size: doc.blob.size, storedAt: doc.created, key, label: key, cached: false });
    const rec = await read(doc.blob);
    for (const p of rec?.packages ?? []) await fn({ digest: p.deb.digest, size: p.deb.size, storedAt: p.at, key, label: `${key} ${p.filename}`, cached: false });
  }
  const published = debLayout.publishedAll(repo);
  for (const k of await meta.list(published)) {
    const key = `${published}/${k}`;
    const doc = await meta.get<PublishedDoc>(key, { remember: false });
    for (const g of doc?.gens ?? []) for (const f of g.files) await fn({ digest: f.digest, size: f.size, storedAt: g.at, key, label: `${key} ${g.id.slice(7, 19)}`, cached: false });
  }
  const releases = debLayout.releases(repo);
  for (const k of await meta.list(releases)) {
    const key = `${releases}/${k}`;
    const doc = await meta.get<ReleaseDoc>(key, { remember: false });
    for (const b of [doc?.blob, doc?.previous?.blob]) if (b && doc) await fn({ digest: b.digest, size: b.size, storedAt: doc.fetchedAt, key, label: key, cached: false });
  }
  const indexes = debLayout.indexes(repo);
  for (const k of await meta.list(indexes)) {
    const key = `${indexes}/${k}`;
    const doc = await meta.get<CachedDebDoc>(key, { remember: false });
    if (doc) await fn({ digest: doc.digest, size: doc.size, storedAt: doc.storedAt, key, label: key, cached: true });
  }
  const pools = debLayout.pools(repo);
  for (const p of await meta.list(pools)) {
    for (const h of await meta.list(`${pools}/${p}`)) {
      const key = `${pools}/${p}/${h}`;
      const doc = await meta.get<CachedDebDoc>(key, { remember: false });
      if (doc) await fn({ digest: doc.digest, size: doc.size, storedAt: doc.storedAt, key, label: key, cached: true });
    }
  }
}

/** Debian's half of the storage jobs (the kit's docStore). */
export const debianStore: FormatStore = docStore((s, repo, fn) =>
  walk(
    s.meta,
    async (ref) => {
      const dg = parseDigest(ref.digest);
      const bytes = dg.ok ? await s.blobs.readAll(dg.digest, ref.size) : null;
      return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as SuiteRecord) : null;
    },
    repo,
    fn,
  ),
);
