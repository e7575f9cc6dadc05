import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import type { RepoKind } from '../format.ts';
import type { CachedFile } from '../remote-file.ts';
import type { Metadata } from './metadata.ts';
import type { Sums } from './sums.ts';

/** A file as a repo answers it, with the checksums it already knows (sent as X-Checksum-* headers). */
export type MavenFile = CachedFile & { sums?: Partial<Sums> | undefined; modified?: number | undefined };

/** A `maven-metadata.xml` as a repo answers it: the bytes to send and, for merging, what they say. */
export interface MetadataAnswer {
  bytes: Uint8Array;
  etag: string;
  cache: CacheStatus;
  modified?: number | undefined;
  parsed(): Metadata;
}

/** What every Maven repo (local, remote, virtual) answers; the HTTP layer renders it. */
export interface MavenReader {
  readonly name: string;
  readonly type: RepoKind;
  file(path: string[], via?: string): Promise<MavenFile>;
  metadata(dir: string[], via?: string): Promise<MetadataAnswer>;
  /** The repo's `.meta/prefixes.txt` lines (each a path prefix it may have), null when it cannot say. */
  prefixes(via?: string): Promise<string[] | null>;
  /** Hosted repos: does it have `group:artifact` (the dependency-confusion guard)? */
  hosts?(ga: string): Promise<boolean>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });
