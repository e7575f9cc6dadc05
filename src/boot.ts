import { AccessTimes } from './cache/access-times.ts';
import { Evictor } from './jobs/evictor.ts';
import { FillManager } from './cache/fill-manager.ts';
import { AccessControl } from './auth/access.ts';
import { AccessTokens } from './auth/access-tokens.ts';
import { CliLogins } from './auth/cli-logins.ts';
import { RevokedSessions } from './auth/revoked-sessions.ts';
import type { Config } from './config/schema.ts';
import { UploadSessions } from './storage/uploads.ts';
import { createLogger } from './log.ts';
import type { Logger } from './log.ts';
import { MetricsRegistry, createServerMetrics } from './metrics/registry.ts';
import type { RuntimeCaps } from './http/runtime.ts';
import { BlobStore, cleanTemp } from './storage/blob-store.ts';
import type { StorageDriver } from './storage/driver.ts';
import { openDriver } from './storage/open.ts';
import { Leases } from './storage/lease.ts';
import { ReplicaFills } from './cache/replica-fills.ts';
import { layout } from './storage/layout.ts';
import { MetaStore } from './storage/meta-store.ts';
import { Notifier } from './notify.ts';
import { DownloadGuard } from './http/download-guard.ts';
import type { FetchFn } from './upstream/auth.ts';
import type { BuildDeps, FormatRepo } from './formats/format.ts';
import { formatOf } from './formats/registry.ts';
import { GcGate } from './storage/gc-gate.ts';
import { MetricsHistory } from './metrics/history.ts';
import { Sessions } from './auth/session.ts';
import { RepoSwitches } from './formats/switches.ts';

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
  /**
   * Which temp files a start removes: `all` (the server: on an fs store it is the only writer, so
   * everything in v1/tmp was left by a crash) or `stale` (the CLI beside a running server: only what
   * no write in flight can still own, as on a shared store).
   */
  tempCleanup?: 'all' | 'stale';
}

export type { Server } from './admin/server.ts';
import type { Server } from './admin/server.ts';

/** Creates every stateful thing once and passes it down; nothing in src/ keeps module state. */
export async function boot(opts: BootOptions): Promise<Server> {
  const { config, runtime } = opts;
  const log = opts.logger ?? createLogger(opts.logSink ?? (() => {}), config.log.level);
  const now = opts.now ?? Date.now;
  const fetchFn: FetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  const newId = (): string => crypto.randomUUID();
  const serverId = config.serverId ?? `binaryrepo-${newId().slice(0, 8)}`;
  // The adapter's fetch for the bucket too (Node: node:http for the requests without a body).
  const driver = openDriver(config.storage, fetchFn);
  const cleaned = await cleanTemp(driver, now(), opts.tempCleanup === 'stale');
  if (cleaned) log.info('removed leftover temp files', { count: cleaned });
  const leases = driver.shared && driver.conditional ? new Leases(driver, driver.conditional, `${serverId}/${newId()}`, leaseSeconds(config) * 1000, now) : undefined;
  const gcGate = new GcGate(leases);
  const blobs = new BlobStore(driver, newId, gcGate);
  if (config.storage.type === 's3' && config.storage.redirectBlobs) blobs.redirectSeconds = config.storage.presignSeconds;
  const meta = new MetaStore(driver, newId, now, driver.shared === true);
  const metrics = createServerMetrics(new MetricsRegistry());
  const replicaFills = leases ? new ReplicaFills(leases, blobs, now, (event) => metrics.replicaFills.inc({ event })) : undefined;
  const fills = new FillManager(blobs, {
    started: () => metrics.fillsInFlight.inc(),
    ended: (ok, bytes, key, error) => {
      metrics.fillsInFlight.dec();
      if (!ok) log.warn('fill failed; nothing was cached', { key, bytes, error: String(error) });
      metrics.fills.inc({ result: ok ? 'ok' : 'failed' });
      if (ok) metrics.bytesFetched.inc({}, bytes);
    },
    joined: () => metrics.coalesced.inc(),
  }, replicaFills);
  const userAgent = `binaryrepo/${VERSION} (${runtime.name} ${runtime.version})`;
  const uploads = new UploadSessions(driver, blobs, meta, newId, now);
  const secret = await tokenSecret(config, driver);
  const tokens = new AccessTokens(meta, now);
  const access = new AccessControl(config, secret, now, tokens, new CliLogins(meta, now, tokens));
  const sessions = new Sessions(secret, now, { fingerprint: (u) => access.passwordFingerprint(u), revoked: new RevokedSessions(meta, now) });
  const history = new MetricsHistory(metrics, now);
  const repos = new Map<string, FormatRepo>();
  const accessTimes = new AccessTimes(meta, now);
  let evictor: Evictor | undefined;
  const cached = (repo: string, bytes: number): void => evictor?.noteCached(repo, bytes);
  const switches = new RepoSwitches(meta, now, driver.shared ? SWITCH_REFRESH_MS : undefined);
  await switches.load(config.repos);
  const deps: BuildDeps = { fetchFn, now, log, metrics, blobs, meta, driver, fills, userAgent, serverId, accessTimes, uploads, gcGate, switches, gcGraceMinutes: config.gc.graceMinutes, bodyIdleMs: config.http.bodyIdleSeconds * 1000, cached, built: repos };
  // Virtual repos last: their members exist by then (the config checked they are local or remote).
  for (const rc of [...config.repos.filter((r) => r.type !== 'virtual'), ...config.repos.filter((r) => r.type === 'virtual')]) {
    const format = formatOf(rc.format);
    if (!format) throw new Error(`repo ${rc.name}: no format ${rc.format} in this build`);
    repos.set(rc.name, format.build(rc, deps));
  }
  const notifier = new Notifier(config.notifications.endpoints, { fetchFn, log, metrics, now, serverId, newId });
  const downloads = new DownloadGuard({ maxPerClient: config.http.maxDownloadsPerClient, sendIdleMs: config.http.sendIdleSeconds * 1000 });
  const server: Omit<Server, 'evictor'> = { config, runtime, serverId, log, metrics, driver, blobs, meta, fills, uploads, gcGate, access, accessTimes, repos, notifier, downloads, sessions, history, switches };
  const full = server as Server;
  evictor = new Evictor(full);
  full.evictor = evictor;
  return full;
}

/** How stale an admin switch set through another replica may be on this one. */
const SWITCH_REFRESH_MS = 2000;

const leaseSeconds = (config: Config): number => (config.storage.type === 's3' ? config.storage.leaseSeconds : 15);

/**
 * The HMAC key of tokens: from the config, else generated once into the storage. Replicas on a
 * shared store that start together agree on one: only the first create wins, the rest read it.
 */
async function tokenSecret(config: Config, driver: StorageDriver): Promise<Uint8Array> {
  if (!config.auth) return new Uint8Array(0); // no tokens are issued or accepted
  if (config.auth.tokenSecret) return new TextEncoder().encode(config.auth.tokenSecret);
  const key = layout.tokenSecret();
  const existing = await driver.readAll(key, 1024);
  if (existing && existing.byteLength >= 32) return existing;
  const fresh = crypto.getRandomValues(new Uint8Array(32));
  if (driver.shared && driver.conditional) {
    if ((await driver.conditional.createIfAbsent(key, fresh)) !== null) return fresh;
    const won = await driver.readAll(key, 1024);
    if (won && won.byteLength >= 32) return won;
  }
  await driver.writeAtomic(key, fresh, layout.temp(crypto.randomUUID()));
  return fresh;
}
