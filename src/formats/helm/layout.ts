import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import type { IndexEntry } from './index-file.ts';

/**
 * Keys under `v1/repos/<repo>/helm/`: a local repo's `charts/<name>/<version>` documents (the index
 * entry, the archive's blob, the provenance file's blob); a remote's `index` document (the upstream
 * index as fetched, rewritten and rendered, each a blob) and `files/<file>` (cached archives and
 * provenance files).
 */
export const helmLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/helm`,
  charts: (repo: string): string => `${helmLayout.root(repo)}/charts`,
  chart: (repo: string, name: string, version: string): string => `${helmLayout.charts(repo)}/${encodeSegment(name)}/${encodeSegment(version)}`,
  index: (repo: string): string => `${helmLayout.root(repo)}/index`,
  /** A hosted repo's snapshot of all chart documents (see journal.ts). */
  snapshot: (repo: string): string => `${helmLayout.root(repo)}/snapshot`,
  files: (repo: string): string => `${helmLayout.root(repo)}/files`,
  file: (repo: string, file: string): string => `${helmLayout.files(repo)}/${encodeSegment(file)}`,
};

export interface BlobRef {
  digest: string;
  size: number;
}

/** A hosted chart version: its index entry and the blobs of its archive and provenance file. */
export interface ChartDoc extends BlobRef {
  entry: IndexEntry;
  prov?: BlobRef;
  storedAt: number;
}

/** A cached archive or provenance file of a remote. */
export interface HelmFileDoc extends BlobRef {
  storedAt: number;
}

/** A remote's view of its upstream index: `data` is the rewritten entries and upstream URLs (JSON), `rendered` our index.yaml. */
export interface RemoteIndexDoc {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  data: BlobRef;
  rendered: BlobRef;
  generated: string;
}
