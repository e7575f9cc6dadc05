import * as v from 'valibot';
import { cachingRemoteFields, Permissions, repoFields, Size, virtualRepoSchema } from '../../config/parts.ts';

const Segments = (def: string[]) => v.optional(v.pipe(v.array(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._+-]{0,63}$/, 'must be a lower-case name apt can put in a URL'))), v.minLength(1)), def);

/** What every generated suite lists: its components and binary architectures (arch `all` packages go into each). */
const suiteShape = {
  components: Segments(['main']),
  architectures: Segments(['amd64', 'arm64']),
};

const DebianLocal = v.strictObject({
  ...repoFields('debian', 'local'),
  ...suiteShape,
  /** The largest .deb taken. */
  maxDebBytes: Size(1024, 2 * 1024 ** 3),
  /** A .deb's control member (control.tar.*): a few KB in practice. */
  maxControlBytes: Size(1024, 4 << 20),
  /** Versions kept per package and architecture in a suite (0: all); older ones leave the index when a newer one is uploaded. */
  keepVersions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  permissions: v.optional(Permissions),
});

const DebianRemote = v.strictObject({
  // The archive's base URL, the one a sources.list names (http://deb.debian.org/debian).
  // InRelease is revalidated after metadataTtlSeconds; indexes and pool files never change under their hashes.
  ...cachingRemoteFields('debian'),
  /** The largest index file (Packages, Contents, Translation) and InRelease taken. */
  maxIndexBytes: Size(1024, 512 << 20),
  maxDebBytes: Size(1024, 4 * 1024 ** 3),
});

const DebianVirtual = v.strictObject({ ...virtualRepoSchema('debian').entries, ...suiteShape });

export const DebianRepoSchema = v.variant('type', [DebianLocal, DebianRemote, DebianVirtual]);
export type DebianRepoConfig = v.InferOutput<typeof DebianRepoSchema>;
