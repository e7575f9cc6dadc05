import * as v from 'valibot';
import { Bytes, Permissions, Seconds, Upstream, budgetFields, watermarksInOrder, virtualRepoSchema, repoFields } from '../../config/parts.ts';

const Cache = v.pipe(
  v.strictObject({
    tagTtlSeconds: Seconds(300),
    /** How long past the TTL a tag may still be served when the upstream fails; 0 = no limit. */
    maxStaleSeconds: Seconds(0),
    negativeTtlSeconds: Seconds(30),
    ...budgetFields,
    /** `image:tag` patterns (`*` wildcard) never evicted, with everything they reference. */
    pin: v.optional(v.array(v.pipe(v.string(), v.regex(/^[a-z0-9*][a-z0-9._/*-]*:[A-Za-z0-9_*][A-Za-z0-9._*-]*$/, 'must be image:tag, * allowed'))), []),
  }),
  v.check((c) => watermarksInOrder(c), 'lowWatermark must be below highWatermark'),
);

const ManifestMaxBytes = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 4 * 1024 * 1024);

/** Image-name patterns: `*` within a segment, `**` across segments. */
const ImagePatterns = v.optional(
  v.array(v.pipe(v.string(), v.regex(/^[a-z0-9*][a-z0-9._/*-]*$/, 'must be an image name pattern (a-z, 0-9, . _ - /, * and **)'))),
  [],
);

/** Docker's upstream: the shared fields, and Docker Hub's implicit `library/` for one-segment names (default: on for Docker Hub hosts). */
const DockerUpstream = v.strictObject({ ...Upstream.entries, libraryPrefix: v.optional(v.boolean()) });

const DockerRemote = v.strictObject({
  ...repoFields('docker', 'remote'),
  upstream: DockerUpstream,
  cache: v.optional(Cache, {}),
  /** Serve only what is cached; never ask the upstream (air-gapped sites, a known outage). */
  offline: v.optional(v.boolean(), false),
  /** Images this repo serves (empty = all) and never serves; others are 404 NAME_UNKNOWN. */
  include: ImagePatterns,
  exclude: ImagePatterns,
  manifestMaxBytes: ManifestMaxBytes,
  /** No cached blob may be larger (a chunked or lying upstream cannot fill the disk). */
  blobMaxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 64 * 1024 ** 3),
  permissions: v.optional(Permissions),
});

/** Tag-retention policy of a local repo, applied before each gc (and by `binaryrepo retention`). */
const Retention = v.pipe(
  v.strictObject({
    /** Images the policy applies to (patterns as for remote include); empty = every image. */
    images: ImagePatterns,
    /** Per image, keep the N most recently pushed tags. */
    keepLast: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
    /** Keep tags pushed within the last N days. */
    keepDays: v.optional(v.pipe(v.number(), v.minValue(0)), 0),
    /** Tag patterns (`*` wildcard) never removed, e.g. `latest`, `release-*`. */
    protect: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_*][A-Za-z0-9._*-]*$/, 'must be a tag pattern (* allowed)'))), []),
  }),
  v.check((r) => r.keepLast > 0 || r.keepDays > 0, 'set keepLast or keepDays: a policy that keeps nothing would delete every tag'),
);

const DockerLocal = v.pipe(v.strictObject({
  ...repoFields('docker', 'local'),
  /** DELETE of manifests, tags and blobs (freed by gc). */
  delete: v.optional(v.boolean(), true),
  /** A pushed tag can never point elsewhere, nor be deleted. */
  immutableTags: v.optional(v.boolean(), false),
  retention: v.optional(Retention),
  /** Storage quota: bytes of distinct blobs and manifests the repo may hold; 0 = unlimited. */
  maxBytes: Bytes,
  /** Upload sessions open at once in this repo; more get 429 until some finish, are cancelled or expire. */
  maxUploadSessions: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000),
  manifestMaxBytes: ManifestMaxBytes,
  permissions: v.optional(Permissions),
}),
// The format's own rule, in its own schema (not in the core's config checks).
v.forward(
  v.check((r) => !(r.retention && r.immutableTags), 'retention cannot delete tags that are immutable; drop retention or immutableTags'),
  ['retention'],
));

const DockerVirtual = virtualRepoSchema('docker');

/** A Docker repo's config: a variant on `type`. */
export const DockerRepoSchema = v.variant('type', [DockerRemote, DockerLocal, DockerVirtual]);
export type DockerRepoConfig = v.InferOutput<typeof DockerRepoSchema>;
export type DockerRemoteConfig = Extract<DockerRepoConfig, { type: 'remote' }>;
export type DockerLocalConfig = Extract<DockerRepoConfig, { type: 'local' }>;
export type RetentionConfig = NonNullable<DockerLocalConfig['retention']>;
