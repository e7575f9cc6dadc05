import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import type { BlobRef } from '../blob-doc.ts';
import type { Stanza } from './control.ts';

/**
 * Keys under `v1/repos/<repo>/debian/`: a local repo's `suites/<suite>/<shard>` (kit BlobDocs naming
 * the suite's records, 64 shards by package name, changed by compare-and-swap); a local or virtual repo's `key` (its signing key)
 * and `published/<suite>` (the index files of the last generations, kept for by-hash); a remote's
 * `release/<suite>` (the upstream's InRelease or Release), `index/<sha256>` (index files, by their
 * hash) and `pool/<path>/<sha256>` (pool files, by path and the hash an index gave).
 */
export const debLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/debian`,
  suites: (repo: string): string => `${debLayout.root(repo)}/suites`,
  suite: (repo: string, suite: string): string => `${debLayout.suites(repo)}/${encodeSegment(suite)}`,
  key: (repo: string): string => `${debLayout.root(repo)}/key`,
  publishedAll: (repo: string): string => `${debLayout.root(repo)}/published`,
  published: (repo: string, suite: string): string => `${debLayout.publishedAll(repo)}/${encodeSegment(suite)}`,
  releases: (repo: string): string => `${debLayout.root(repo)}/release`,
  release: (repo: string, suite: string): string => `${debLayout.releases(repo)}/${encodeSegment(suite)}`,
  releaseFile: (repo: string, suite: string, file: string): string => `${debLayout.root(repo)}/release-file/${encodeSegment(suite)}/${encodeSegment(file)}`,
  indexes: (repo: string): string => `${debLayout.root(repo)}/index`,
  index: (repo: string, hex: string): string => `${debLayout.indexes(repo)}/${hex}`,
  pools: (repo: string): string => `${debLayout.root(repo)}/pool`,
  pool: (repo: string, path: string, hex: string): string => `${debLayout.pools(repo)}/${encodeSegment(path)}/${hex}`,
  negative: (repo: string): string => `${debLayout.root(repo)}/negative`,
};

/** One package version in a hosted suite. */
export interface DebEntry {
  component: string;
  name: string;
  version: string;
  arch: string;
  source: string;
  /** The control stanza without the fields the index adds (Filename, Size, SHA256). */
  stanza: Stanza;
  /** The pool path: `pool/<component>/<prefix>/<source>/<name>_<version>_<arch>.deb`. */
  filename: string;
  deb: BlobRef;
  at: number;
  by: string | null;
}

/** A shard of a hosted suite (the BlobDoc's value), or the whole suite as one snapshot. */
export interface SuiteRecord {
  suite: string;
  packages: DebEntry[];
  /** When the suite last changed (its Release Date and Last-Modified: a removal moves it forward too). */
  changed: number;
}

/** The index files of a suite's last generations: their blobs stay for clients that read an older InRelease. */
export interface PublishedDoc {
  gens: Array<{ id: string; at: number; files: BlobRef[] }>;
}

/** A remote's copy of a suite's release file, and the one before it (clients that read it a moment ago still get its indexes). */
export interface ReleaseCopy {
  kind: 'InRelease' | 'Release';
  digest: string;
  text?: string;
  blob?: BlobRef;
}

export interface ReleaseDoc extends ReleaseCopy {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  previous?: ReleaseCopy;
}

/** A remote's pass-through copy of a release file it does not index by (Release and Release.gpg beside InRelease). */
export interface ReleaseFileDoc {
  fetchedAt: number;
  text: string;
}

/** A cached index or pool file. */
export interface CachedDebDoc extends BlobRef {
  storedAt: number;
}
