import type { MetaStore } from '../../storage/meta-store.ts';
import type { BlobDoc } from '../blob-doc.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { pypiLayout } from './layout.ts';
import type { FileDoc, RemotePageDoc } from './layout.ts';

/** Every blob a PyPI repo's documents name; `cached`: a remote's file or `.metadata` (an eviction unit). */
async function walk(meta: MetaStore, repo: string, fn: (ref: { digest: string; size: number }, key: string, cached: boolean, storedAt: number) => Promise<void>): Promise<void> {
  const projects = pypiLayout.projects(repo);
  for (const n of await meta.list(projects)) {
    const doc = await meta.get<BlobDoc>(`${projects}/${n}`, { remember: false });
    if (doc) await fn(doc.blob, `${projects}/${n}`, false, doc.created);
  }
  const pages = pypiLayout.pages(repo);
  for (const n of await meta.list(pages)) {
    const doc = await meta.get<RemotePageDoc>(`${pages}/${n}`, { remember: false });
    if (doc) await fn(doc.page, `${pages}/${n}`, false, doc.fetchedAt);
  }
  for (const root of [pypiLayout.files(repo), pypiLayout.metadatas(repo)]) {
    for (const p of await meta.list(root)) {
      for (const f of await meta.list(`${root}/${p}`)) {
        const doc = await meta.get<FileDoc>(`${root}/${p}/${f}`, { remember: false });
        if (doc) await fn(doc, `${root}/${p}/${f}`, doc.cached === true, doc.storedAt);
      }
    }
  }
}

/**
 * PyPI's half of the storage jobs (the kit's docStore): hosted file lists, files and metadata, and a
 * remote's pages, are kept (gc) and never evicted; a remote's cached files and `.metadata` files are
 * root units of its cache (a page goes stale and is fetched again).
 */
export const pypiStore: FormatStore = docStore((s, repo, fn) =>
  walk(s.meta, repo, (ref, key, cached, storedAt) => fn({ digest: ref.digest, size: ref.size, storedAt, key, label: key, cached })),
);
