import type { ChunkSource } from '../../http/chunk-source.ts';
import { RegistryError } from '../../errors.ts';
import type { Digest } from '../../storage/digest.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { FILE_DOC, decodeSegment, encodeSegment, genericLayout } from './paths.ts';
import type { FileDoc } from './paths.ts';

/** What a generic repo answers for a file: stored bytes, a download in progress, or an upstream HEAD. */
export type FileResult =
  | { source: 'store'; doc: FileDoc; digest: Digest; cache: CacheStatus }
  | { source: 'stream'; size: number | undefined; contentType: string; lastModified?: string | undefined; open: (start: number, end: number | undefined) => ChunkSource; cache: CacheStatus }
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
  /** One page of a folder's entries (files and sub-folders) in name order; not_found when there is no such folder. */
  list(path: string[], page?: ListPage): Promise<ListResult>;
}

/** A page of a listing: at most `n` entries whose names come after `last` (as the Docker tag list pages). */
export interface ListPage {
  n: number;
  last?: string | undefined;
}

export interface ListResult {
  entries: ListEntry[];
  /** More entries follow the last one of this page. */
  more: boolean;
}

/** A page size when none is asked: every listing is paged, so no request makes us read a whole 100k-entry folder. */
export const DEFAULT_PAGE = 1000;
export const MAX_PAGE = 10_000;

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


/** The stored file at `path`, when its document and its bytes are both there. */
export async function storedFile(meta: MetaStore, blobs: { stat(d: Digest): Promise<unknown> }, repo: string, path: string[]): Promise<{ doc: FileDoc; digest: Digest } | null> {
  if (path.length === 0) return null;
  const doc = await meta.get<FileDoc>(genericLayout.file(repo, path));
  const d = doc ? parseDigest(String(doc.digest)) : null;
  if (!doc || !d?.ok || !(await blobs.stat(d.digest))) return null;
  return { doc, digest: d.digest };
}

export async function listFolder(meta: MetaStore, repo: string, path: string[], page: ListPage = { n: DEFAULT_PAGE }): Promise<ListResult> {
  const dir = genericLayout.dir(repo, path);
  const all = (await meta.list(dir)).filter((n) => n !== FILE_DOC);
  if (all.length === 0 && path.length > 0) throw new RegistryError('not_found', `no folder /${path.join('/')}/`, { code: 'NOT_FOUND' });
  // Names are stored encoded and listed sorted: a page starts after `last` by a binary search and
  // reads only its own entries' documents (a 100k-entry folder cost 1.2–6 s a listing when all were read).
  const after = page.last === undefined ? -1 : lastIndexAtMost(all, encodeSegment(page.last));
  const names = all.slice(after + 1, after + 1 + page.n);
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
  return { entries: out, more: after + 1 + page.n < all.length };
}

/** The index of the last name <= key in a sorted list (-1 when none). */
function lastIndexAtMost(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? '') <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
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
