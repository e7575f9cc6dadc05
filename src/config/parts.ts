import * as v from 'valibot';

/** Schema pieces every format's repo configs share (names, upstreams, budgets, permissions). */
export const RepoName = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit'),
);

export const Seconds = (def: number) => v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(10 * 365 * 86400)), def);

export const HttpUrl = v.pipe(
  v.string(),
  v.url('must be an absolute URL'),
  v.check((s) => /^https?:\/\//.test(s), 'must be an http:// or https:// URL'),
  v.check((s) => !/^https?:\/\/[^/]*@/.test(s), 'must not contain credentials; use username and password'),
);

export const Upstream = v.strictObject({
  url: HttpUrl,
  username: v.optional(v.string()),
  password: v.optional(v.string('must be a string')),
  headersTimeoutSeconds: Seconds(30),
  idleTimeoutSeconds: Seconds(60),
  breakerFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5),
  breakerOpenSeconds: Seconds(30),
  /**
   * Hosts (patterns, `*` within a label) that redirects and absolute URLs from this upstream may
   * lead to, besides its own; unset: every host that is not an internal address.
   */
  allowHosts: v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.*:[\]-]+$/, 'must be a host or host:port pattern')))),
});

export const Fraction = (def: number) => v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1)), def);
export const Bytes = v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0);

/** A remote repo's disk budget; eviction runs above high × maxBytes, down to low × maxBytes. */
export const budgetFields = {
  maxBytes: Bytes,
  highWatermark: Fraction(0.9),
  lowWatermark: Fraction(0.8),
};

export const watermarksInOrder = (c: { lowWatermark: number; highWatermark: number }): boolean => c.lowWatermark < c.highWatermark;

export const CacheBudget = v.pipe(
  v.strictObject({ maxBytes: Bytes, highWatermark: Fraction(0.9), lowWatermark: Fraction(0.8), checkIntervalSeconds: Seconds(300) }),
  v.check((c) => c.lowWatermark < c.highWatermark, 'lowWatermark must be below highWatermark'),
);

export const UserName = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._@-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9, ".", "_", "@", "-"'));

/** `anonymous` = everyone, even without credentials; `authenticated` = any known user; else a user name. */
export const Principal = v.union([v.literal('anonymous'), v.literal('authenticated'), UserName]);

export const Permissions = v.strictObject({
  read: v.optional(v.array(Principal), []),
  write: v.optional(v.array(Principal), []),
  delete: v.optional(v.array(Principal), []),
});

/** The fields that open every repo's schema: its name, and the variant keys format and type. */
export function repoFields<F extends string, T extends string>(format: F, type: T) {
  return { name: RepoName, format: v.literal(format), type: v.literal(type) };
}

/** A virtual repo of any format: ordered members of the same format, and where pushes go. */
export function virtualRepoSchema<F extends string>(format: F) {
  return v.strictObject({
    ...repoFields(format, 'virtual'),
    members: v.pipe(v.array(RepoName), v.minLength(1, 'needs at least one member')),
    /** Local repo that receives pushes made to the virtual URL. */
    deployTo: v.optional(RepoName),
    permissions: v.optional(Permissions),
  });
}

/**
 * The cache block of a remote whose upstream documents change (npm packuments, PyPI project pages):
 * revalidated (ETag / Last-Modified) after `metadataTtlSeconds`, served stale while the upstream
 * fails for `maxStaleSeconds`, a name the upstream lacks asked again after `negativeTtlSeconds` (a
 * fresh publish is never hidden for long), and the budget fields of every remote.
 */
export const metadataCache = v.optional(
  v.pipe(
    v.strictObject({
      metadataTtlSeconds: Seconds(300),
      maxStaleSeconds: Seconds(7 * 86400),
      negativeTtlSeconds: Seconds(30),
      ...budgetFields,
    }),
    v.check((c) => watermarksInOrder(c), 'lowWatermark must be below highWatermark'),
  ),
  {},
);

/** A byte count of at least `min`, `def` when unset (the formats' size bounds). */
export const Size = (min: number, def: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(min)), def);

/**
 * What every pull-through repo with mutable metadata has (npm, PyPI, Maven, Cargo): its upstream,
 * the metadata cache policy (TTL, stale, negative answers, budget), an offline switch, permissions.
 * Each format adds its own size bounds.
 */
export function cachingRemoteFields<F extends string>(format: F) {
  return {
    ...repoFields(format, 'remote'),
    upstream: Upstream,
    cache: metadataCache,
    offline: v.optional(v.boolean(), false),
    permissions: v.optional(Permissions),
  };
}
