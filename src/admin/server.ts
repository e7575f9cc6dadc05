import type { AccessControl } from '../auth/access.ts';
import type { Sessions } from '../auth/session.ts';
import type { AccessTimes } from '../cache/access-times.ts';
import type { FillManager } from '../cache/fill-manager.ts';
import type { Config } from '../config/schema.ts';
import type { FormatRepo } from '../formats/format.ts';
import type { RepoSwitches } from '../formats/switches.ts';
import type { DownloadGuard } from '../http/download-guard.ts';
import type { RuntimeCaps } from '../http/runtime.ts';
import type { Evictor } from '../jobs/evictor.ts';
import type { Logger } from '../log.ts';
import type { MetricsHistory } from '../metrics/history.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import type { Notifier } from '../notify.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { StorageDriver } from '../storage/driver.ts';
import type { GcGate } from '../storage/gc-gate.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import type { UploadSessions } from '../storage/uploads.ts';

/**
 * Everything one running server holds, made once by boot(). Declared here, below boot, so that the
 * admin API and the UI (which boot wires in) read it without importing the file that builds them.
 */
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
  gcGate: GcGate;
  /** The last config reload (SIGHUP), for the admin page and API; undefined before any. */
  lastReload?: { at: number; source: string; ok: boolean; notes: string[] };
  /** Offline and pins switched by admins at run time. */
  switches: RepoSwitches;
  /** The web UI's signed session cookies. */
  sessions: Sessions;
  /** Cache counters over time, for the UI's charts. */
  history: MetricsHistory;
  access: AccessControl;
  /** Last access of cached objects, for eviction. */
  accessTimes: AccessTimes;
  evictor: Evictor;
  repos: Map<string, FormatRepo>;
  /** Webhooks for pushes, pulls and deletes (config `notifications`). */
  notifier: Notifier;
  /** Streamed response bodies per client, and the cut-off for clients that stop reading. */
  downloads: DownloadGuard;
}
