import * as v from 'valibot';

/**
 * The configuration, validated once at the edge. strictObject everywhere: a misspelt key is an
 * error with its path, not a silently ignored setting.
 */
const RepoName = v.pipe(
  v.string(),
  v.regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit'),
);

const Seconds = (def: number) => v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(10 * 365 * 86400)), def);

const HttpUrl = v.pipe(
  v.string(),
  v.url('must be an absolute URL'),
  v.check((s) => /^https?:\/\//.test(s), 'must be an http:// or https:// URL'),
  v.check((s) => !/^https?:\/\/[^/]*@/.test(s), 'must not contain credentials; use username and password'),
);

const Upstream = v.strictObject({
  url: HttpUrl,
  username: v.optional(v.string()),
  password: v.optional(v.string('must be a string')),
  /** Docker Hub's implicit `library/` for one-segment names; default: on for Docker Hub hosts. */
  libraryPrefix: v.optional(v.boolean()),
  headersTimeoutSeconds: Seconds(30),
  idleTimeoutSeconds: Seconds(60),
  breakerFailures: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 5),
  breakerOpenSeconds: Seconds(30),
});

const Cache = v.strictObject({
  tagTtlSeconds: Seconds(300),
  /** How long past the TTL a tag may still be served when the upstream fails; 0 = no limit. */
  maxStaleSeconds: Seconds(0),
  negativeTtlSeconds: Seconds(30),
});

const DockerRemote = v.strictObject({
  name: RepoName,
  format: v.literal('docker'),
  type: v.literal('remote'),
  upstream: Upstream,
  cache: v.optional(Cache, {}),
  manifestMaxBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 4 * 1024 * 1024),
});

const Repo = v.variant('type', [DockerRemote]);

const Listen = v.pipe(
  v.string(),
  v.regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$/, 'must be host:port (e.g. 127.0.0.1:8081, [::1]:8081, :8081)'),
);

export const ConfigSchema = v.pipe(
  v.strictObject({
    listen: v.optional(Listen, '0.0.0.0:8081'),
    /** Identifies this server in Via headers (loop detection); random per start when unset. */
    serverId: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/))),
    storage: v.optional(
      v.strictObject({ type: v.literal('fs'), path: v.pipe(v.string(), v.minLength(1)) }),
      { type: 'fs', path: './data' },
    ),
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
    repos: v.array(Repo),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const cfg = dataset.value;
    const names = new Set<string>();
    cfg.repos.forEach((r, i) => {
      if (names.has(r.name)) {
        addIssue({ message: `duplicate repo name "${r.name}"`, path: [pathItem(cfg.repos, i)] });
      }
      names.add(r.name);
    });
    if (cfg.defaultRepo !== undefined && !names.has(cfg.defaultRepo)) {
      addIssue({ message: `defaultRepo "${cfg.defaultRepo}" is not a configured repo` });
    }
    for (const [host, repo] of Object.entries(cfg.hosts)) {
      if (!names.has(repo)) addIssue({ message: `hosts.${host}: "${repo}" is not a configured repo` });
    }
  }),
);

function pathItem(input: unknown[], key: number) {
  return { type: 'array' as const, origin: 'value' as const, input, key, value: input[key] };
}

export type Config = v.InferOutput<typeof ConfigSchema>;
export type RepoConfig = Config['repos'][number];
export type DockerRemoteConfig = Extract<RepoConfig, { type: 'remote'; format: 'docker' }>;
