import * as v from 'valibot';

/**
 * The configuration, validated once at the edge. strictObject everywhere: a misspelt key is an
 * error with its path, not a silently ignored setting. Repo configs come from the formats (a
 * variant on `format`, then on `type`: src/formats/schemas.ts).
 */
import { CacheBudget, HttpUrl, RepoName, UserName } from './parts.ts';
import { RepoSchema } from '../formats/schemas.ts';

const Repo = RepoSchema;

const Auth = v.strictObject({
  /** `service` of the token flow (the audience of issued tokens). */
  service: v.optional(v.pipe(v.string(), v.minLength(1)), 'binaryrepo'),
  issuer: v.optional(v.pipe(v.string(), v.minLength(1)), 'binaryrepo'),
  tokenTtlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(86400)), 300),
  /** Lifetime of refresh (identity) tokens, which `docker login` keeps instead of the password. */
  refreshTokenTtlSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(366 * 86400)), 30 * 86400),
  /** HMAC key of tokens, shared by replicas; when unset, one is generated into the storage. */
  tokenSecret: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  /** Failed password checks allowed per window; past them the address or user gets 429 until it ends. */
  failedLogins: v.optional(
    v.strictObject({
      perAddress: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 30),
      perUser: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10),
      windowSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(86400)), 60),
    }),
    {},
  ),
  users: v.optional(
    v.record(
      UserName,
      v.strictObject({
        passwordHash: v.pipe(v.string(), v.regex(/^scrypt\$/, 'must be a hash made by `binaryrepo hash-password`, never a plain password')),
        /** Every permission on every repo. */
        admin: v.optional(v.boolean(), false),
      }),
    ),
    {},
  ),
});

const Gc = v.strictObject({
  /** Online gc every N minutes; 0 = only when run by hand (`binaryrepo gc`). */
  intervalMinutes: v.optional(v.pipe(v.number(), v.minValue(0)), 0),
  /** Blobs and links younger than this are never collected (a push may be about to reference them). */
  graceMinutes: v.optional(v.pipe(v.number(), v.minValue(0)), 60),
  /** Upload sessions idle this long are abandoned and removed. */
  uploadMaxAgeHours: v.optional(v.pipe(v.number(), v.minValue(0)), 24),
});

/** A webhook receiving registry events in the CNCF distribution's envelope. */
const NotificationEndpoint = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -')),
  url: HttpUrl,
  /** Sent with every request (e.g. Authorization: "Bearer ${HOOK_TOKEN}"). */
  headers: v.optional(v.record(v.string(), v.string()), {}),
  timeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(300)), 5),
  /** First retry delay after a failed delivery; doubles up to 60 s. */
  backoffSeconds: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(60)), 1),
  /** Events held while the endpoint fails; beyond this the oldest are dropped (and counted). */
  maxQueue: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)), 10_000),
  actions: v.optional(v.array(v.picklist(['push', 'pull', 'delete'])), ['push', 'delete']),
  /** Only events of these repos; empty = all. */
  repos: v.optional(v.array(RepoName), []),
});

const FsStorage = v.strictObject({ type: v.literal('fs'), path: v.pipe(v.string(), v.minLength(1)) });

/** An S3-compatible bucket (AWS S3, Ceph RGW, MinIO): several replicas may share it (docs/scale-out.md). */
const S3Storage = v.strictObject({
  type: v.literal('s3'),
  endpoint: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//, 'must be an http(s) URL')),
  bucket: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
  region: v.optional(v.pipe(v.string(), v.minLength(1)), 'us-east-1'),
  accessKeyId: v.pipe(v.string(), v.minLength(1)),
  secretAccessKey: v.pipe(v.string(), v.minLength(1)),
  sessionToken: v.optional(v.string()),
  /** https://host/bucket/key (Ceph, MinIO) instead of https://bucket.host/key (AWS default). */
  forcePathStyle: v.optional(v.boolean(), false),
  /** Every key under this prefix, so several stores can share a bucket. */
  prefix: v.optional(v.pipe(v.string(), v.regex(/^([A-Za-z0-9_][A-Za-z0-9._-]*\/?)*$/, 'must be a key prefix like binaryrepo/')), ''),
  /** Local folder for writes in flight (read back by clients tailing a fill); the OS temp folder when unset. */
  spoolDir: v.optional(v.pipe(v.string(), v.minLength(1))),
  /** Multipart part size; two parts per write in flight are held in memory. */
  partSizeMiB: v.optional(v.pipe(v.number(), v.integer(), v.minValue(5), v.maxValue(512)), 8),
  /** Cached blob GETs answer 307 to a presigned URL of the bucket (takes the bytes off the replicas). */
  redirectBlobs: v.optional(v.boolean(), false),
  /** Seconds a presigned URL stays valid. */
  presignSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(7 * 86400)), 600),
  /** A replica filling a blob holds a lease this long without renewing it before another may take over. */
  leaseSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(600)), 15),
});

const Listen = v.pipe(
  v.string(),
  v.regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port (e.g. 127.0.0.1:8081, [::1]:8081, :8081)'),
);

export const ConfigSchema = v.strictObject({
  listen: v.optional(Listen, '0.0.0.0:8081'),
  /** Identifies this server in Via headers (loop detection); random per start when unset. */
  serverId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/))),
  storage: v.optional(v.variant('type', [FsStorage, S3Storage]), { type: 'fs', path: './data' }),
  /** Repo that answers /v2/<image> at the root (Docker Engine registry-mirrors). */
  defaultRepo: v.optional(RepoName),
  /** Host name (without port) → repo, for host-name routing without URL rewriting. */
  hosts: v.optional(v.record(v.pipe(v.string(), v.toLowerCase()), RepoName), {}),
  log: v.optional(
    v.strictObject({
      level: v.optional(v.picklist(['debug', 'info', 'warn', 'error']), 'info'),
      /** One line per request; off for benchmarks. */
      requests: v.optional(v.boolean(), true),
    }),
    { level: 'info', requests: true },
  ),
  notifications: v.optional(v.strictObject({ endpoints: v.optional(v.array(NotificationEndpoint), []) }), { endpoints: [] }),
  /**
   * Who may read /metrics when auth is on: `admin` (default; an admin's password, or an access
   * token with the admin action, e.g. Prometheus' bearer_token), `authenticated`, or `public`.
   * Metrics name every repo: anonymous readers would learn the names of private ones.
   */
  metrics: v.optional(v.strictObject({ access: v.optional(v.picklist(['admin', 'authenticated', 'public']), 'admin') }), { access: 'admin' }),
  /** Client-side timeouts: slow or silent clients must not hold connections forever. */
  http: v.optional(
    v.strictObject({
      /** Time to receive a request's headers (slowloris). */
      headersTimeoutSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600)), 60),
      /** A request body (a push) that sends nothing for this long fails; its session stays. */
      bodyIdleSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600)), 120),
      /** An idle keep-alive connection is closed after this long. */
      keepAliveSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600)), 65),
      /** A download whose client takes no bytes for this long is cut off (its file handle freed). */
      sendIdleSeconds: v.optional(v.pipe(v.number(), v.minValue(1), v.maxValue(3600)), 120),
      /**
       * Downloads one client address may have open at once (more get 429); 0 = no limit. Behind a
       * proxy every client shares its address: raise it there, or set it to 0 and limit in the proxy.
       */
      maxDownloadsPerClient: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 512),
      /**
       * Requests with a body (pushes, uploads, forms) one client address may have in flight at once
       * (more get 429 before their body is read); 0 = no limit. The same proxy caveat applies.
       */
      maxBodiesPerClient: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 128),
      /**
       * Whether X-Forwarded-Proto and X-Forwarded-Host name the origin clients used (behind nginx or
       * a load balancer). Off when clients reach binaryrepo directly.
       */
      trustProxy: v.optional(v.boolean(), true),
      /**
       * The URL clients reach the server at (`https://repo.example.com`, a path prefix allowed), for
       * URLs written into documents clients keep: npm's tarball URLs end up in lockfiles. Absent: the
       * request's own scheme, host and X-Forwarded-Prefix.
       */
      publicUrl: v.optional(v.pipe(v.string(), v.regex(/^https?:\/\/[^/?#\s]+(\/[A-Za-z0-9._~-]+)*\/?$/, 'must be http(s)://host[:port][/prefix]'))),
    }),
    {},
  ),
  /** Absent: no authentication, everyone may do everything (a private network or a laptop). */
  auth: v.optional(Auth),
  gc: v.optional(Gc, {}),
  /** The global budget over every remote repo (each may also have its own cache.maxBytes). */
  cacheBudget: v.optional(CacheBudget, {}),
  repos: v.array(Repo),
});

/**
 * What one field cannot say alone: names unique, members and deployTo existing and of the right
 * kind, permissions naming known users. Each problem carries its full path
 * (`repos[2].members[0]: ...`), as the schema's own do.
 */
export function crossCheck(cfg: v.InferOutput<typeof ConfigSchema>): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  cfg.repos.forEach((r, i) => {
    if (names.has(r.name)) problems.push(`repos[${i}].name: duplicate repo name "${r.name}"`);
    names.add(r.name);
  });
  const byName = new Map(cfg.repos.map((r) => [r.name, r]));
  cfg.repos.forEach((r, i) => {
    const at = `repos[${i}]`;
    if (r.type === 'virtual') {
      r.members.forEach((m, j) => {
        const member = byName.get(m);
        if (!member) problems.push(`${at}.members[${j}]: "${m}" is not a configured repo`);
        else if (member.type === 'virtual') problems.push(`${at}.members[${j}]: "${m}" is virtual; members must be local or remote`);
        else if (member.format !== r.format) problems.push(`${at}.members[${j}]: "${m}" is not a ${r.format} repo`);
      });
      if (r.deployTo !== undefined) {
        if (byName.get(r.deployTo)?.type !== 'local') problems.push(`${at}.deployTo: "${r.deployTo}" must be a local repo`);
        else if (!r.members.includes(r.deployTo)) problems.push(`${at}.deployTo: "${r.deployTo}" must also be a member`);
      }
    }
    const p = r.permissions;
    if (p) {
      for (const action of ['write', 'delete'] as const) {
        if (p[action].includes('anonymous')) problems.push(`${at}.permissions.${action}: anonymous may only read, not ${action}`);
      }
      for (const action of ['read', 'write', 'delete'] as const) {
        p[action].forEach((who, j) => {
          if (who !== 'anonymous' && who !== 'authenticated' && !(cfg.auth && Object.hasOwn(cfg.auth.users, who))) {
            problems.push(`${at}.permissions.${action}[${j}]: unknown user "${who}"`);
          }
        });
      }
    }
  });
  if (cfg.defaultRepo !== undefined && !names.has(cfg.defaultRepo)) problems.push(`defaultRepo: "${cfg.defaultRepo}" is not a configured repo`);
  for (const [host, repo] of Object.entries(cfg.hosts)) {
    if (!names.has(repo)) problems.push(`hosts.${host}: "${repo}" is not a configured repo`);
  }
  return problems;
}

export type Config = v.InferOutput<typeof ConfigSchema>;
export type RepoConfig = Config['repos'][number];
export type NotificationEndpointConfig = Config['notifications']['endpoints'][number];
export type AuthConfig = NonNullable<Config['auth']>;
export type PermissionsConfig = NonNullable<RepoConfig['permissions']>;
