import type { ChunkSource } from '../../http/chunk-source.ts';
import { RegistryError } from '../../errors.ts';
import type { Digest } from '../../storage/digest.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { FILE_DOC, decodeSegment, genericLayout } from './paths.ts';
import type { FileDoc } from './paths.ts';

/** What a generic repo answers for a file: stored bytes, a download in progress, or an upstream HEAD. */
export type FileResult =
  | { source: 'store'; doc: FileDoc; digest: Digest; cache: CacheStatus }
  | { source: 'stream'; size: number | undefined; contentType: string; open: (start: number, end: number | undefined) => ChunkSource; cache: CacheStatus }
  | { source: 'upstream-head'; size: number | undefined; contentType: string; cache: CacheStatus };

export interface ListEntry {
  name: string;
  type: 'file' | 'folder';
  size?: number;
  sha256?: string;
  storedAt?: number;
}

export interface GenericReader {
  readonly name: string;
  readonly type: 'local' | 'remote' | 'virtual';
  get(path: string[], head: boolean, via?: string): Promise<FileResult>;
  /** A folder's entries (files and sub-folders), sorted; not_found when there is no such folder. */
  list(path: string[]): Promise<ListEntry[]>;
}

export interface PutOptions {
  /** The client's X-Checksum-Sha256 (hex): the upload must hash to it, or nothing is stored. */
  sha256?: string;
  contentType: string;
}

export interface GenericWriter {
  readonly name: string;
  put(path: string[], body: AsyncIterable<Uint8Array>, opts: PutOptions): Promise<{ doc: FileDoc; replaced: boolean }>;
  delete(path: string[]): Promise<void>;
}

export const notFound = (path: string[]): RegistryError => new RegistryError('not_found', `no file /${path.join('/')}`, { code: 'NOT_FOUND' });

/** Entries listed per folder at most: a listing is an answer, not a way to make us walk everything. */
const MAX_LIST = 10_000;

/** The stored file at `path`, when its document and its bytes are both there. */
export async function storedFile(meta: MetaStore, blobs: { stat(d: Digest): Promise<unknown> }, repo: string, path: string[]): Promise<{ doc: FileDoc; digest: Digest } | null> {
  if (path.length === 0) return null;
  const doc = await meta.get<FileDoc>(genericLayout.file(repo, path));
  const d = doc ? parseDigest(String(doc.digest)) : null;
  if (!doc || !d?.ok || !(await blobs.stat(d.digest))) return null;
  return { doc, digest: d.digest };
}

export async function listFolder(meta: MetaStore, repo: string, path: string[]): Promise<ListEntry[]> {
  const dir = genericLayout.dir(repo, path);
  const names = (await meta.list(dir)).filter((n) => n !== FILE_DOC).slice(0, MAX_LIST);
  if (names.length === 0 && path.length > 0) throw new RegistryError('not_found', `no folder /${path.join('/')}/`, { code: 'NOT_FOUND' });
  const out: ListEntry[] = [];
  for (const n of names) {
    const inside = await meta.list(`${dir}/${n}`);
    const name = decodeSegment(n);
    if (inside.includes(FILE_DOC)) {
      const doc = await meta.get<FileDoc>(`${dir}/${n}/${FILE_DOC}`);
      if (doc) out.push({ name, type: 'file', size: doc.size, sha256: String(doc.digest).replace(/^sha256:/, ''), storedAt: doc.storedAt });
    }
    if (inside.some((x) => x !== FILE_DOC)) out.push({ name, type: 'folder' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : 1));
}

/** Calls fn for every file document under a repo's generic folder (depth-first). */
export async function walkFiles(meta: MetaStore, repo: string, fn: (path: string[], doc: FileDoc, key: string) => Promise<void>): Promise<void> {
  const walk = async (dir: string, path: string[], depth: number): Promise<void> => {
    if (depth > 128) return;
    for (const n of await meta.list(dir)) {
      if (n === FILE_DOC) {
        const doc = await meta.get<FileDoc>(`${dir}/${n}`);
        if (doc) await fn(path, doc, `${dir}/${n}`);
      } else {
        await walk(`${dir}/${n}`, [...path, decodeSegment(n)], depth + 1);
      }
    }
  };
  await walk(genericLayout.filesRoot(repo), [], 0);
}
