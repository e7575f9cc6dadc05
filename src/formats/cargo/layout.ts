import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import type { BlobRef } from '../blob-doc.ts';
import type { IndexEntry, VersionInfo } from './index-entry.ts';

/**
 * Keys under `v1/repos/<repo>/cargo/`: a local repo's `crates/<canonical name>` (a kit BlobDoc
 * naming the crate's record, changed by compare-and-swap) and `files/<canonical>/<version>` (its
 * .crate files); a remote's `index/<lower-cased name>` (the upstream's index file, inline or a blob),
 * `files/...` (cached crates), `config` (the upstream's config.json) and `negative`.
 */
export const cargoLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/cargo`,
  crates: (repo: string): string => `${cargoLayout.root(repo)}/crates`,
  crate: (repo: string, canonical: string): string => `${cargoLayout.crates(repo)}/${encodeSegment(canonical)}`,
  indexes: (repo: string): string => `${cargoLayout.root(repo)}/index`,
  index: (repo: string, lower: string): string => `${cargoLayout.indexes(repo)}/${encodeSegment(lower)}`,
  files: (repo: string): string => `${cargoLayout.root(repo)}/files`,
  file: (repo: string, name: string, vers: string): string => `${cargoLayout.files(repo)}/${encodeSegment(name.toLowerCase())}/${encodeSegment(vers)}`,
  config: (repo: string): string => `${cargoLayout.root(repo)}/config`,
  negative: (repo: string): string => `${cargoLayout.root(repo)}/negative`,
};

/** One published version of a hosted crate: its index line, its .crate blob, who and when. */
export interface HostedVersion {
  entry: IndexEntry;
  crate: BlobRef;
  at: number;
  by: string | null;
  info: VersionInfo;
}

/** A hosted crate (the BlobDoc's value): its name as first published, owners, versions oldest first. */
export interface CrateRecord {
  name: string;
  owners: string[];
  versions: HostedVersion[];
}

/**
 * A remote's copy of one upstream index file: up to INLINE_INDEX_BYTES its text is in the document
 * itself (one small write without an fsync on a miss, read from the MetaStore's memory after);
 * larger files are a blob. `digest` names the bytes either way (the ETag).
 */
export interface RemoteIndexDoc {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  digest: string;
  text?: string;
  blob?: BlobRef;
}

/** Most index files are a few KB; a document may be 1 MiB, and JSON escaping grows index lines by a tenth or so. */
export const INLINE_INDEX_BYTES = 256 << 10;

/** A remote's copy of the upstream's config.json (where its crates download from). */
export interface RemoteConfigDoc {
  fetchedAt: number;
  dl: string;
}

/** A cached crate of a remote. */
export interface CachedCrateDoc extends BlobRef {
  storedAt: number;
}
