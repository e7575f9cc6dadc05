import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import type { RepoKind } from '../format.ts';
import type { CachedFile } from '../remote-file.ts';
import type { IndexEntry } from './index-entry.ts';

/** An index file as a repo answers it: the bytes served, their ETag, and the parsed lines. */
export interface IndexAnswer {
  bytes: Uint8Array;
  etag: string;
  modified: number | undefined;
  cache: CacheStatus;
  entries(): IndexEntry[];
}

export interface SearchHit {
  name: string;
  max_version: string;
  description: string;
}

/** What every Cargo repo (local, remote, virtual) answers; the HTTP layer renders it. */
export interface CargoReader {
  readonly name: string;
  readonly type: RepoKind;
  /** The index file of a (lower-cased) name; `stored`: what the store has, never an upstream request (the web UI). */
  index(lower: string, opts: { via?: string | undefined; stored?: boolean }): Promise<IndexAnswer>;
  /** A .crate by the name and version its index line gives. */
  crate(name: string, vers: string, via?: string): Promise<CachedFile>;
  /** Lower-cased names held (hosted or cached), at most `max`. */
  names(max: number): Promise<string[]>;
  search(q: string, max: number): Promise<SearchHit[]>;
  /** Hosted repos: is the crate here (the dependency-confusion guard)? */
  hosts?(lower: string): Promise<boolean>;
  /** Hosted repos: who owns the crate (the web UI). */
  owners?(name: string): Promise<string[]>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });

/** The version an index lists, or a not found naming where it was looked for. */
export function versionIn(entries: readonly IndexEntry[], name: string, vers: string, repo: string): IndexEntry {
  const e = entries.find((x) => x.vers === vers && x.name.toLowerCase() === name.toLowerCase());
  if (!e) throw notFound(`crate ${name} ${vers} in ${repo}`);
  return e;
}
