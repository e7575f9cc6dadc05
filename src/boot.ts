import { AccessLog } from './cache/access.ts';
import { Evictor } from './cache/evictor.ts';
import { FillManager } from './cache/fill-manager.ts';
import { NegativeCache } from './cache/policy.ts';
import { AccessControl } from './auth/access.ts';
import type { Config, DockerLocalConfig, DockerRemoteConfig } from './config/schema.ts';
import { DockerLocal } from './formats/docker/local.ts';
import { DockerRemote } from './formats/docker/remote.ts';
import type { DockerReader, DockerRepo } from './formats/docker/repo.ts';
import { UploadSessions } from './formats/docker/uploads.ts';
import { DockerVirtual } from './formats/docker/virtual.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { MetricsRegistry, createServerMetrics } from './metrics/registry.ts';
import type { ServerMetrics } from './metrics/registry.ts';
import type { RuntimeCaps } from './runtime.ts';
import { BlobStore, cleanTemp } from './storage/blob-store.ts';
import type { StorageDriver } from './storage/driver.ts';
import { FsDriver } from './storage/fs.ts';
import { layout } from './storage/layout.ts';
import { MetaStore } from './storage/meta-store.ts';
import { TokenCache } from './upstream/auth.ts';
import { ImageFilter } from './formats/docker/image-filter.ts';
import { Notifier } from './notify.ts';
import { DownloadGuard } from './http/download-guard.ts';
import { RepoQuota } from './formats/docker/quota.ts';
import type { FetchFn } from './upstream/auth.ts';
import { UpstreamClient } from './upstream/client.ts';
import { RwLock } from './util/rwlock.ts';

export const VERSION = '0.1.0';

export interface BootOptions {
  config: Config;
  runtime: RuntimeCaps;
  /** Where JSON log lines go; the adapter passes stdout. */
  logSink?: (line: string) => void;
  logger?: Logger;
  /** Outbound HTTP; tests may pass a fetch bound to a fake upstream, never a patched global. */
  fetch?: FetchFn;
  now?: () => number;
}

export interface DockerRepoHandle {
  name: string;
  format: 'docker';
  type: 'remote' | 'local' | 'virtual';
  docker: DockerRepo;
}

export type RepoHandle = DockerRepoHandle;

export interface Server {
  config: Config;
  runtime: RuntimeCaps;
  serverId: string;
  log: Logger;
  metrics: ServerMetrics;
  driver: StorageDriver;
  blobs: BlobStore;
  meta: MetaStore;
  fills: FillManager;
  uploads: UploadSessions;
  /** Held shared by reference-creating writes, exclusive by the online gc. */
  gcLock: RwLock;
  access: AccessControl;
  /** Last access of cached objects, for eviction. */
  accessLog: AccessLog;
  evictor: Evictor;
  repos: Map<string, RepoHandle>;
  /** Webhooks for pushes, pulls and deletes (config `notifications`). */
  notifier: Notifier;
  /** Streamed response bodies per client, and the cut-off for clients that stop reading. */
  downloads: DownloadGuard;
}

/** Hosts where Docker Hub's implicit `library/` prefix applies. */
const DOCKER_HUB = /(^|\.)docker\.io$/;

/** Creates every stateful thing once and passes it down; nothing in src/ keeps module state. */
export async function boot(opts: BootOptions): Promise<Server> {
  const { config, runtime } = opts;
  const log = opts.logger ?? createLogger(opts.logSink ?? (() => {}), config.log.level);
  const now = opts.now ?? Date.now;
  const fetchFn: FetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const newId = (): string => crypto.randomUUID();
  const serverId = config.serverId ?? `binaryrepo-${newId().slice(0, 8)}`;
  const driver = new FsDriver(config.storage.path);
  const cleaned = await cleanTemp(driver);
  if (cleaned) log.info('removed leftover temp files', { count: cleaned });
  const blobs = new BlobStore(driver, newId);
  const meta = new MetaStore(driver, newId);
  const metrics = createServerMetrics(new MetricsRegistry());
  const fills = new FillManager(blobs, {
    started: () => metrics.fillsInFlight.inc(),
    ended: (ok, bytes, digest, error) => {
      metrics.fillsInFlight.dec();
      if (!ok) log.warn('blob fill failed; nothing was cached', { digest, bytes, error: String(error) });
      metrics.fills.inc({ result: ok ? 'ok' : 'failed' });
      if (ok) metrics.bytesFetched.inc({}, bytes);
    },
    joined: () => metrics.coalesced.inc(),
  });
  const userAgent = `binaryrepo/${VERSION} (${runtime.name} ${runtime.version})`;
  const uploads = new UploadSessions(driver, blobs, meta, newId, now);
  const gcLock = new RwLock();
  const access = new AccessControl(config, await tokenSecret(config, driver), now);
  const repos = new Map<string, RepoHandle>();
  const accessLog = new AccessLog(meta, now);
  let evictor: Evictor | undefined;
  const cached = (repo: string, bytes: number): void => evictor?.noteCached(repo, bytes);
  const shared: Shared = { fetchFn, now, log, metrics, blobs, meta, fills, userAgent, serverId, accessLog, cached };
  for (const rc of config.repos) {
    if (rc.type === 'remote') repos.set(rc.name, handle(rc.name, dockerRemote(rc, shared)));
    if (rc.type === 'local') repos.set(rc.name, handle(rc.name, dockerLocal(rc, shared, uploads, gcLock, config.gc.graceMinutes)));
  }
  // Virtual repos last: their members exist by now (the schema checked they are local or remote).
  for (const rc of config.repos) {
    if (rc.type !== 'virtual') continue;
    const members = rc.members.map((m) => repos.get(m)?.docker).filter((m): m is DockerRepo => m !== undefined);
    const target = rc.deployTo ? repos.get(rc.deployTo)?.docker : undefined;
    repos.set(rc.name, handle(rc.name, new DockerVirtual(rc.name, members, target?.writer)));
  }
  const notifier = new Notifier(config.notifications.endpoints, { fetchFn, log, metrics, now, serverId, newId });
  const downloads = new DownloadGuard({ maxPerClient: config.http.maxDownloadsPerClient, sendIdleMs: config.http.sendIdleSeconds * 1000 });
  const server: Omit<Server, 'evictor'> = { config, runtime, serverId, log, metrics, driver, blobs, meta, fills, uploads, gcLock, access, accessLog, repos, notifier, downloads };
  const full = server as Server;
  evictor = new Evictor(full);
  full.evictor = evictor;
  return full;
}

function handle(name: string, docker: DockerRepo): RepoHandle {
  return { name, format: 'docker', type: docker.type, docker };
}

/** The HMAC key of tokens: from the config, else generated once into the storage. */
async function tokenSecret(config: Config, driver: StorageDriver): Promise<Uint8Array> {
  if (!config.auth) return new Uint8Array(0); // no tokens are issued or accepted
  if (config.auth.tokenSecret) return new TextEncoder().encode(config.auth.tokenSecret);
  const key = layout.tokenSecret();
  const existing = await driver.readAll(key, 1024);
  if (existing && existing.byteLength >= 32) return existing;
  const fresh = crypto.getRandomValues(new Uint8Array(32));
  await driver.writeAtomic(key, fresh, layout.temp(crypto.randomUUID()));
  return fresh;
}

function dockerLocal(rc: DockerLocalConfig, s: Shared, uploads: UploadSessions, gcLock: RwLock, graceMinutes: number): DockerRepo {
  return new DockerLocal({
    repo: rc.name,
    blobs: s.blobs,
    meta: s.meta,
    uploads,
    gcLock,
    manifestMaxBytes: rc.manifestMaxBytes,
    allowDelete: rc.delete,
    immutableTags: rc.immutableTags,
    maxUploadSessions: rc.maxUploadSessions,
    linkGraceMs: graceMinutes * 60_000,
    now: s.now,
    ...(rc.maxBytes > 0 ? { quota: new RepoQuota(rc.name, rc.maxBytes, s.meta, s.blobs, s.now) } : {}),
  });
}

interface Shared {
  fetchFn: FetchFn;
  now: () => number;
  log: Logger;
  metrics: ServerMetrics;
  blobs: BlobStore;
  meta: MetaStore;
  fills: FillManager;
  userAgent: string;
  serverId: string;
  accessLog: AccessLog;
  cached: (repo: string, bytes: number) => void;
}

function dockerRemote(rc: DockerRemoteConfig, s: Shared): DockerReader {
  const up = rc.upstream;
  const credentials = up.username !== undefined ? { username: up.username, password: up.password ?? '' } : undefined;
  const client = new UpstreamClient(
    {
      url: up.url,
      ...(credentials ? { credentials } : {}),
      headersTimeoutMs: up.headersTimeoutSeconds * 1000,
      idleTimeoutMs: up.idleTimeoutSeconds * 1000,
      breakerFailures: up.breakerFailures,
      breakerOpenMs: up.breakerOpenSeconds * 1000,
      userAgent: s.userAgent,
      via: `1.1 ${s.serverId}`,
    },
    s.fetchFn,
    // One token cache per repo: tokens obtained with one repo's credentials never serve another.
    new TokenCache(s.fetchFn, s.now, up.headersTimeoutSeconds * 1000, s.userAgent),
    s.now,
    {
      response: (status, headers) => {
        s.metrics.upstreamRequests.inc({ repo: rc.name, status: String(status) });
        const remaining = headers.get('ratelimit-remaining');
        const n = remaining ? Number.parseInt(remaining, 10) : Number.NaN;
        if (!Number.isNaN(n)) s.metrics.upstreamRateLimit.set({ repo: rc.name }, n);
      },
      failure: (kind) => s.metrics.upstreamRequests.inc({ repo: rc.name, status: kind }),
    },
  );
  const remote = new DockerRemote({
    repo: rc.name,
    upstream: client,
    blobs: s.blobs,
    meta: s.meta,
    fills: s.fills,
    negative: new NegativeCache(rc.cache.negativeTtlSeconds * 1000, s.now),
    rule: { ttlMs: rc.cache.tagTtlSeconds * 1000, maxStaleMs: rc.cache.maxStaleSeconds * 1000 },
    manifestMaxBytes: rc.manifestMaxBytes,
    blobMaxBytes: rc.blobMaxBytes,
    idleTimeoutMs: up.idleTimeoutSeconds * 1000,
    libraryPrefix: up.libraryPrefix ?? DOCKER_HUB.test(new URL(up.url).hostname),
    offline: rc.offline,
    filter: new ImageFilter(rc.include, rc.exclude),
    accessLog: s.accessLog,
    cached: (bytes) => s.cached(rc.name, bytes),
    now: s.now,
    log: s.log,
  });
  return remote;
}
