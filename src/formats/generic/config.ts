import * as v from 'valibot';
import { Permissions, Seconds, Upstream, budgetFields, watermarksInOrder, virtualRepoSchema, repoFields } from '../../config/parts.ts';

/** Path patterns (the config's pattern language: `*` within a segment, `**` across). */
const PathPatterns = v.optional(v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(512), v.regex(/^[^\u0000-\u001f\\]+$/, 'must be a path pattern'))), []);

const MaxFileBytes = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 64 * 1024 ** 3);

const Cache = v.pipe(
  v.strictObject({
    /** A cached file is revalidated (If-None-Match / If-Modified-Since) when older than this. */
    ttlSeconds: Seconds(3600),
    /** How long past the TTL a file may still be served when the upstream fails; 0 = no limit. */
    maxStaleSeconds: Seconds(0),
    /** An upstream 404 is remembered this long. */
    negativeTtlSeconds: Seconds(30),
    ...budgetFields,
    /** Path patterns never evicted. */
    pin: PathPatterns,
  }),
  v.check((c) => watermarksInOrder(c), 'lowWatermark must be below highWatermark'),
);

const GenericRemote = v.strictObject({
  ...repoFields('generic', 'remote'),
  upstream: Upstream,
  cache: v.optional(Cache, {}),
  /**
   * Paths the upstream never changes once published, never revalidated: `true` for all (release
   * downloads), or path patterns in the config's glob language (a Debian mirror: its pool and its
   * by-hash folders, while each suite's InRelease follows the TTL; see docs/configuration.md).
   */
  immutable: v.optional(v.union([v.boolean(), v.array(v.pipe(v.string(), v.minLength(1)))]), false),
  /** Serve only what is cached. */
  offline: v.optional(v.boolean(), false),
  include: PathPatterns,
  exclude: PathPatterns,
  maxFileBytes: MaxFileBytes,
  permissions: v.optional(Permissions),
});

const GenericLocal = v.strictObject({
  ...repoFields('generic', 'local'),
  /** A PUT over an existing path replaces it; false: 409. */
  allowOverwrite: v.optional(v.boolean(), false),
  delete: v.optional(v.boolean(), true),
  /** Storage quota: bytes of the distinct files the repo holds; 0 = unlimited. */
  maxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  maxFileBytes: MaxFileBytes,
  /** Files not written for this many days are deleted by maintenance (retention by age); 0 = never. */
  retentionDays: v.optional(v.pipe(v.number(), v.minValue(0)), 0),
  permissions: v.optional(Permissions),
});

const GenericVirtual = virtualRepoSchema('generic');

/** A generic (raw file) repo's config: a variant on `type`. */
export const GenericRepoSchema = v.variant('type', [GenericRemote, GenericLocal, GenericVirtual]);
export type GenericRepoConfig = v.InferOutput<typeof GenericRepoSchema>;
