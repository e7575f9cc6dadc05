import { RegistryError } from '../../errors.ts';
import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import type { BlobRef } from '../blob-doc.ts';
import type { SumAlg } from './coords.ts';

/** The document name of a file inside its folder (so a folder and a file may share a name). */
export const FILE_DOC = '_f';

const under = (root: string, segments: string[]): string => {
  const key = [root, ...segments.map(encodeSegment)].join('/');
  if (key.length > 1000) throw new RegistryError('invalid', 'path too long once stored', { code: 'PATH_INVALID' });
  return key;
};

/**
 * Keys under `v1/repos/<repo>/maven/`: `files/<path…>/_f` for every stored file (hosted, or
 * cached by a remote); a remote's mutable upstream documents (metadata, the prefix file,
 * non-unique snapshot files) under `mutable/<path…>/_f`; a hosted repo's own records, from which
 * it writes its metadata: `artifacts/<g:a>` (versions), `snapshots/<g:a:v>` (builds) and
 * `groups/<g>` (plugin prefixes).
 */
export const mavenLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/maven`,
  filesRoot: (repo: string): string => `${mavenLayout.root(repo)}/files`,
  dir: (repo: string, segments: string[]): string => under(mavenLayout.filesRoot(repo), segments),
  file: (repo: string, path: string[]): string => `${under(mavenLayout.filesRoot(repo), path)}/${FILE_DOC}`,
  mutableRoot: (repo: string): string => `${mavenLayout.root(repo)}/mutable`,
  mutable: (repo: string, path: string[]): string => `${under(mavenLayout.mutableRoot(repo), path)}/${FILE_DOC}`,
  artifacts: (repo: string): string => `${mavenLayout.root(repo)}/artifacts`,
  artifact: (repo: string, ga: string): string => `${mavenLayout.artifacts(repo)}/${encodeSegment(ga)}`,
  snapshots: (repo: string): string => `${mavenLayout.root(repo)}/snapshots`,
  snapshot: (repo: string, gav: string): string => `${mavenLayout.snapshots(repo)}/${encodeSegment(gav)}`,
  groups: (repo: string): string => `${mavenLayout.root(repo)}/groups`,
  group: (repo: string, g: string): string => `${mavenLayout.groups(repo)}/${encodeSegment(g)}`,
  /** A remote's negative cache, kept across restarts. */
  negative: (repo: string): string => `${mavenLayout.root(repo)}/negative`,
};

/** A stored file: its blob, the checksums known for it, and whether a remote cached it. */
export interface FileDoc extends BlobRef {
  storedAt: number;
  sums?: Partial<Record<SumAlg, string>>;
  cached?: boolean;
}

/** A remote's copy of a mutable upstream document. */
export interface MutableDoc {
  fetchedAt: number;
  etag: string | null;
  lastModified: string | null;
  blob: BlobRef;
}

/** A hosted artifact: its versions (with when each was first deployed) and, for plugins, its prefix. */
export interface ArtifactDoc {
  groupId: string;
  artifactId: string;
  versions: Record<string, number>;
  updated: number;
}

/** A hosted snapshot version's builds, oldest first; each build's files by `classifier|extension`. */
export interface SnapshotDoc {
  builds: Array<{ timestamp: string; buildNumber: number; at: number; files: Record<string, string> }>;
  /** Non-unique files (`a-1.0-SNAPSHOT.jar`) deployed by old clients, by `classifier|extension`. */
  plain?: Record<string, number>;
  updated: number;
}

/** A hosted group's plugins (group-level metadata), by artifactId. */
export interface GroupDoc {
  plugins: Record<string, { prefix: string; name?: string | undefined }>;
  updated: number;
}
