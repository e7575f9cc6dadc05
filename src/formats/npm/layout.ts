import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';

/**
 * Keys under `v1/repos/<repo>/npm/`: a local repo's `packages/<name>` (one document per package,
 * changed by compare-and-swap), a remote's `meta/<name>` (the upstream packument as stored blobs)
 * and `tarballs/<name>/<file>` (cached tarballs).
 */
export const npmLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/npm`,
  packages: (repo: string): string => `${npmLayout.root(repo)}/packages`,
  package: (repo: string, name: string): string => `${npmLayout.packages(repo)}/${encodeSegment(name)}`,
  metas: (repo: string): string => `${npmLayout.root(repo)}/meta`,
  meta: (repo: string, name: string): string => `${npmLayout.metas(repo)}/${encodeSegment(name)}`,
  tarballs: (repo: string): string => `${npmLayout.root(repo)}/tarballs`,
  packageTarballs: (repo: string, name: string): string => `${npmLayout.tarballs(repo)}/${encodeSegment(name)}`,
  tarball: (repo: string, name: string, file: string): string => `${npmLayout.packageTarballs(repo, name)}/${encodeSegment(file)}`,
};

/**
 * A hosted package is a kit BlobDoc naming its packument (tarball URLs under BASE_MARK), since a
 * package of thousands of versions is larger than a document may be; its tarballs are `tarballs/`
 * documents.
 */
export type { BlobDoc as PackageDoc, BlobRef } from '../blob-doc.ts';
import type { BlobRef } from '../blob-doc.ts';

/** Where a remote's tarball is upstream, and the checksum the packument gives for it. */
export interface UpstreamFile {
  url: string;
  integrity?: string;
  shasum?: string;
}

/** A remote's copy of one upstream packument: the rewritten full and abbreviated documents, and the files map. */
export interface RemoteMetaDoc {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  modified?: string;
  full: BlobRef;
  abbreviated: BlobRef;
  files: BlobRef;
}

/** A tarball: hosted (with its version) or cached by a remote. */
export interface TarballDoc extends BlobRef {
  storedAt: number;
  version?: string;
}
