import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import type { BlobRef } from '../blob-doc.ts';

/**
 * Keys under `v1/repos/<repo>/pypi/` (project names normalised): a local repo's `projects/<p>` (a
 * kit BlobDoc naming the project's file list), a remote's `pages/<p>` (the upstream page as a
 * stored blob), and for both `files/<p>/<file>` and `metadata/<p>/<file>` (a file and its PEP 658
 * `.metadata`).
 */
export const pypiLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/pypi`,
  projects: (repo: string): string => `${pypiLayout.root(repo)}/projects`,
  project: (repo: string, p: string): string => `${pypiLayout.projects(repo)}/${encodeSegment(p)}`,
  pages: (repo: string): string => `${pypiLayout.root(repo)}/pages`,
  page: (repo: string, p: string): string => `${pypiLayout.pages(repo)}/${encodeSegment(p)}`,
  files: (repo: string): string => `${pypiLayout.root(repo)}/files`,
  projectFiles: (repo: string, p: string): string => `${pypiLayout.files(repo)}/${encodeSegment(p)}`,
  file: (repo: string, p: string, f: string): string => `${pypiLayout.projectFiles(repo, p)}/${encodeSegment(f)}`,
  metadatas: (repo: string): string => `${pypiLayout.root(repo)}/metadata`,
  projectMetadata: (repo: string, p: string): string => `${pypiLayout.metadatas(repo)}/${encodeSegment(p)}`,
  metadata: (repo: string, p: string, f: string): string => `${pypiLayout.projectMetadata(repo, p)}/${encodeSegment(f)}`,
};

/** A stored file or `.metadata` file: hosted, or cached by a remote (`cached`). */
export interface FileDoc extends BlobRef {
  storedAt: number;
  cached?: boolean;
}

/** One hosted file in its project's list. */
export interface HostedFile {
  filename: string;
  version: string;
  digest: string;
  size: number;
  uploadTime: string;
  requiresPython?: string;
  yanked?: string | true;
  /** The wheel's METADATA (PEP 658), extracted at upload. */
  metadata?: BlobRef & { sha256: string };
}

/** A hosted project: its display name, files, and per version the upload's metadata fields (the JSON API's `info`). */
export interface HostedProject {
  name: string;
  files: Record<string, HostedFile>;
  info: Record<string, Record<string, string | string[]>>;
}

/** A remote's copy of one upstream page, and the `.metadata` hashes extracted from wheels cached since. */
export interface RemotePageDoc {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  page: BlobRef;
  extracted?: Record<string, string>;
}
