import type { Config } from '../config/schema.ts';
import type { StoreAccess } from '../formats/format.ts';
import { formatOf } from '../formats/registry.ts';
import { parseDigest } from '../storage/digest.ts';
import { LAYOUT_VERSION, layout } from '../storage/layout.ts';
import type { UploadSessions } from '../storage/uploads.ts';
import { forEachLimit } from '../util/pool.ts';
import type { RwLock } from '../util/rwlock.ts';

/** Blobs stat'ed (and deleted) at once by the sweep: the exclusive lock is held for less time. */
const SWEEP_CONCURRENCY = 16;

export interface GcOptions {
  dryRun: boolean;
  /** Blobs and layer links younger than this are kept whatever references them. */
  graceMs: number;
  /** Upload sessions idle this long are removed. */
  uploadMaxAgeMs: number;
}

export interface GcReport {
  dryRun: boolean;
  manifests: number;
  blobsKept: number;
  blobsDeleted: number;
  bytesFreed: number;
  linksDeleted: number;
  uploadsDeleted: number;
  deleted: string[];
  ms: number;
}

export type GcServer = StoreAccess & { uploads: Pick<UploadSessions, 'list' | 'remove'> };

/**
 * Mark and sweep over the store, whatever the formats. Roots: what every repo folder on disk keeps
 * alive, as its format reports it (configured or not: taking a repo out of the config must not
 * destroy its data), and anything younger than the grace period (a push may be about to reference
 * it); then every blob no root reaches goes. Upload sessions are separate files and only removed
 * when abandoned.
 */
export async function collectGarbage(s: GcServer, now: number, opts: GcOptions): Promise<GcReport> {
  const t0 = Date.now();
  const marked = new Set<string>();
  const report: GcReport = { dryRun: opts.dryRun, manifests: 0, blobsKept: 0, blobsDeleted: 0, bytesFreed: 0, linksDeleted: 0, uploadsDeleted: 0, deleted: [], ms: 0 };
  for (const repo of await s.meta.list(`${LAYOUT_VERSION}/repos`)) {
    for (const folder of await s.meta.list(layout.repoRoot(repo))) {
      if (folder.startsWith('_')) continue; // the core's own (access times)
      const format = formatOf(folder);
      // A folder of a format this build does not know: its references are unknown, so nothing may go.
      if (!format) throw new Error(`gc: repo ${repo} has a folder "${folder}" of no known format; refusing to sweep`);
      const r = await format.store.mark(s, repo, marked, { now, graceMs: opts.graceMs, dryRun: opts.dryRun });
      report.manifests += r.documents;
      report.linksDeleted += r.linksDeleted;
    }
  }
  for (const u of await s.uploads.list()) {
    if (now - u.mtimeMs < opts.uploadMaxAgeMs) continue;
    report.uploadsDeleted++;
    if (!opts.dryRun) await s.uploads.remove(u.id);
  }
  for (const alg of await s.driver.list(`${LAYOUT_VERSION}/blobs`)) {
    for (const pre of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}`)) {
      await forEachLimit(await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}/${pre}`), SWEEP_CONCURRENCY, async (hex) => {
        const d = parseDigest(`${alg}:${hex}`);
        if (!d.ok) return;
        const st = await s.blobs.stat(d.digest);
        if (!st) return;
        if (marked.has(d.digest.value) || now - st.mtimeMs < opts.graceMs) {
          report.blobsKept++;
          return;
        }
        report.blobsDeleted++;
        report.bytesFreed += st.size;
        report.deleted.push(d.digest.value);
        if (!opts.dryRun) await s.blobs.delete(d.digest);
      });
    }
  }
  report.ms = Date.now() - t0;
  return report;
}

/** The gc options of a config. */
export function gcOptions(s: { config: Pick<Config, 'gc'> }, dryRun: boolean): GcOptions {
  const g = s.config.gc;
  return { dryRun, graceMs: g.graceMinutes * 60_000, uploadMaxAgeMs: g.uploadMaxAgeHours * 3_600_000 };
}

/** The online mode: gc under the exclusive lock, so no push can add a reference mid-run. */
export function runGc(s: GcServer & { config: Pick<Config, 'gc'>; gcLock: RwLock }, dryRun: boolean): Promise<GcReport> {
  return s.gcLock.withExclusive(() => collectGarbage(s, Date.now(), gcOptions(s, dryRun)));
}
