import * as v from 'valibot';
import { verifierKeyProblem } from './sumdb/note.ts';
import { Permissions, Seconds, Upstream, budgetFields, virtualRepoSchema, watermarksInOrder, repoFields } from '../../config/parts.ts';

/**
 * A GOPROXY-style list: proxy URLs separated by `,` (the next one is tried only after a 404 or 410)
 * or `|` (after any error). `direct` and `off` are the go command's own business: we proxy proxies.
 */
const ProxyList = v.pipe(
  v.string(),
  v.check((s) => s.split(/[,|]/).every((u) => /^https?:\/\/[^/@\s]+(\/\S*)?$/.test(u.trim())), 'must be http(s) proxy URLs separated by "," or "|" (no "direct", no credentials in URLs)'),
);

const GoUpstream = v.strictObject({
  url: ProxyList,
  username: v.optional(v.string()),
  password: v.optional(v.string('must be a string')),
  headersTimeoutSeconds: Seconds(30),
  idleTimeoutSeconds: Seconds(60),
  breakerFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5),
  breakerOpenSeconds: Seconds(30),
  allowHosts: Upstream.entries.allowHosts,
});

/** GOPRIVATE-style module path patterns: never asked upstream (404 here), never looked up in a sumdb. */
const ModulePatterns = v.optional(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9.*?_~/-]+$/, 'must be a module path pattern'))), []);

/** The public Go checksum database, as the go command knows it (GOSUMDB's default). */
export const SUM_GOLANG_ORG = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

/**
 * A checksum database this repo proxies under `/sumdb/<name>/`: its verifier key as GOSUMDB names it
 * and where to reach it (default `https://<name>`; a GOPROXY that proxies it works too:
 * `https://proxy.golang.org/sumdb/sum.golang.org`). Credentials are its own: the upstream proxy's are
 * never sent to another host.
 */
const SumDb = v.strictObject({
  key: v.pipe(
    v.string(),
    v.check((k) => verifierKeyProblem(k) === null, 'must be a verifier key as GOSUMDB names it (<name>+<hash>+<key>) whose hash matches'),
  ),
  url: v.optional(v.pipe(v.string(), v.regex(/^https?:\/\/[^/@\s]+(\/\S*)?$/, 'must be an http(s) URL without credentials'))),
  username: v.optional(v.string()),
  password: v.optional(v.string('must be a string')),
});

const GoRemote = v.strictObject({
  ...repoFields('go', 'remote'),
  upstream: GoUpstream,
  cache: v.optional(
    v.pipe(
      v.strictObject({
        /** `@v/list` and `@latest` are asked upstream again after this; .info, .mod and .zip never change. */
        listTtlSeconds: Seconds(300),
        /** A checksum database's `/latest` tree is asked again after this (tiles and lookups never change). */
        sumdbTtlSeconds: Seconds(60),
        maxStaleSeconds: Seconds(0),
        negativeTtlSeconds: Seconds(30),
        ...budgetFields,
      }),
      v.check((c) => watermarksInOrder(c), 'lowWatermark must be below highWatermark'),
    ),
    {},
  ),
  offline: v.optional(v.boolean(), false),
  private: ModulePatterns,
  /** Checksum databases proxied under `/sumdb/<name>/`; `[]` for none. */
  sumdb: v.optional(
    v.pipe(
      v.array(SumDb),
      v.check((l) => l.every((d) => /^[A-Za-z0-9._:-]+\+/.test(d.key)), 'database names must be host names (letters, digits, ".", "-", ":")'),
      v.check((l) => new Set(l.map((d) => d.key.split('+')[0])).size === l.length, 'each database may be listed once'),
    ),
    [{ key: SUM_GOLANG_ORG }],
  ),
  permissions: v.optional(Permissions),
});

const GoLocal = v.strictObject({
  ...repoFields('go', 'local'),
  /** DELETE of a version (its files go with the next gc). */
  delete: v.optional(v.boolean(), true),
  permissions: v.optional(Permissions),
});

/** A Go repo's config: a variant on `type`. */
export const GoRepoSchema = v.variant('type', [GoRemote, GoLocal, virtualRepoSchema('go')]);
export type GoRepoConfig = v.InferOutput<typeof GoRepoSchema>;
