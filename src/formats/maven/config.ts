import * as v from 'valibot';
import { cachingRemoteFields, Permissions, repoFields, Size, virtualRepoSchema } from '../../config/parts.ts';

const MavenLocal = v.strictObject({
  ...repoFields('maven', 'local'),
  /** What the repo takes: releases only, snapshots only (as Nexus's and Artifactory's split repos), or both. */
  versionPolicy: v.optional(v.picklist(['release', 'snapshot', 'mixed']), 'mixed'),
  /** Releases are immutable: a second deploy of a release file is refused (409) unless this is on. */
  redeploy: v.optional(v.boolean(), false),
  /** Timestamped builds kept per snapshot version; older ones are deleted as new ones land (0 = all). */
  keepSnapshots: Size(0, 0),
  maxFileBytes: Size(1024, 2 * 1024 ** 3),
  /** DELETE of files and folders (needs delete permission). */
  delete: v.optional(v.boolean(), true),
  permissions: v.optional(Permissions),
});

const MavenRemote = v.strictObject({
  // The repository's base URL (https://repo.maven.apache.org/maven2).
  // Metadata and the prefix file are revalidated after metadataTtlSeconds; release files never change.
  ...cachingRemoteFields('maven'),
  maxMetadataBytes: Size(1024, 16 << 20),
  maxFileBytes: Size(1024, 4 * 1024 ** 3),
  /**
   * A release file is verified against the upstream's `.sha1`. `strict-if-exists` (default, as
   * Nexus's StrictIfExists): a file whose upstream publishes no `.sha1` is cached unverified, its
   * checksums ours from then on. `strict`: such a file is refused (502, nothing kept), for
   * upstreams that always publish checksums (Maven Central does).
   */
  checksumPolicy: v.optional(v.picklist(['strict-if-exists', 'strict']), 'strict-if-exists'),
});

export const MavenRepoSchema = v.variant('type', [MavenLocal, MavenRemote, virtualRepoSchema('maven')]);
export type MavenRepoConfig = v.InferOutput<typeof MavenRepoSchema>;
