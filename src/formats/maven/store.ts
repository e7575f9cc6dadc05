import { decodeSegment, encodeSegment as encode } from '../../storage/key-encoding.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { docStore } from '../doc-store.ts';
import type { FormatStore } from '../format.ts';
import { FILE_DOC, mavenLayout } from './layout.ts';
import type { FileDoc, MutableDoc } from './layout.ts';

/** Every document under `root` that names a file: (path, key), depth first. */
export async function walkTree(meta: MetaStore, root: string, fn: (path: string[], key: string) => Promise<void>, path: string[] = []): Promise<void> {
  const prefix = path.length === 0 ? root : `${root}/${path.map(encode).join('/')}`;
  for (const e of await meta.list(prefix)) {
    if (e === FILE_DOC) await fn(path, `${prefix}/${FILE_DOC}`);
    else await walkTree(meta, root, fn, [...path, decodeSegment(e)]);
  }
}

/**
 * Maven's half of the storage jobs (the kit's docStore): hosted files and a remote's mutable
 * documents (metadata, prefix files, non-unique snapshots) are kept; a remote's cached release
 * files and snapshot builds are root units of its cache, pinned by path patterns where configured.
 */
export const mavenStore: FormatStore = docStore(async (s, repo, fn) => {
  await walkTree(s.meta, mavenLayout.filesRoot(repo), async (path, key) => {
    const doc = await s.meta.get<FileDoc>(key, { remember: false });
    if (doc) await fn({ digest: doc.digest, size: doc.size, storedAt: doc.storedAt, key, label: `/${path.join('/')}`, cached: doc.cached === true, pinPath: `/${path.join('/')}` });
  });
  await walkTree(s.meta, mavenLayout.mutableRoot(repo), async (path, key) => {
    const doc = await s.meta.get<MutableDoc>(key, { remember: false });
    if (doc) await fn({ digest: doc.blob.digest, size: doc.blob.size, storedAt: doc.fetchedAt, key, label: `/${path.join('/')} (upstream copy)`, cached: false });
  });
});
