import type { Config } from '../config/schema.ts';
import type { StoreAccess } from '../formats/format.ts';
import { formatOf } from '../formats/registry.ts';
import { parseDigest } from '../storage/digest.ts';
import { LAYOUT_VERSION, layout } from '../storage/layout.ts';
import type { UploadSessions } from '../storage/uploads.ts';
import { forEachLimit } from '../util/pool.ts';
import type { GcGate } from '../storage/gc-gate.ts';
import type { Digest } from '../storage/digest.ts';
import type { FileInfo } from '../storage/driver.ts';

/** Blobs stat'ed at once by the sweep. */
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

export type GcServer = StoreAccess & { uploads: Pick<UploadSessions, 'list' | 'remove'>; gcGate: GcGate };

/**
 * Mark and sweep over the store, whatever the formats, beside running pushes (src/storage/gc-gate.ts).
 * Roots: what every repo folder on disk keeps alive, as its format reports it (configured or not:
 * taking a repo out of the config must not destroy its data), anything younger than the grace
 * period, and anything used since the run began; then every blob no root reaches goes, in short
 * exclusive batches. Upload sessions are separate files and only removed when abandoned.
 */
export async function collectGarbage(s: GcServer, now: number, opts: GcOptions): Promise<GcReport> {
  const t0 = Date.now();
  const marked = new Set<string>();
  const report: GcReport = { dryRun: opts.dryRun, manifests: 0, blobsKept: 0, blobsDeleted: 0, bytesFreed: 0, linksDeleted: 0, uploadsDeleted: 0, deleted: [], ms: 0 };
  const run = await s.gcGate.track();
  try {
    // The job's own reads must not count as use, or nothing it reads could ever go.
    const q: GcServer = { ...s, blobs: s.blobs.unobserved() };
    const drops: Array<{ digest: string; remove: () => Promise<boolean> }> = [];
    const markOpts = { now, graceMs: opts.graceMs, dryRun: opts.dryRun, drop: (digest: string, remove: () => Promise<boolean>) => void drops.push({ digest, remove }) };
    for (const repo of await q.meta.list(`${LAYOUT_VERSION}/repos`)) {
      for (const folder of await q.meta.list(layout.repoRoot(repo))) {
        if (folder.startsWith('_')) continue; // the core's own (access times)
        const format = formatOf(folder);
        // A folder of a format this build does not know: its references are unknown, so nothing may go.
        if (!format) throw new Error(`gc: repo ${repo} has a folder "${folder}" of no known format; refusing to sweep`);
        report.manifests += (await format.store.mark(q, repo, marked, markOpts)).documents;
      }
    }
    if (opts.dryRun) report.linksDeleted = drops.filter((d) => !run.used.has(d.digest)).length;
    else {
      await s.gcGate.inBatches(drops, async (d) => {
        if (run.used.has(d.digest)) marked.add(d.digest);
        else if (await d.remove()) report.linksDeleted++;
        else marked.add(d.digest); // renewed meanwhile: its blob stays too
      });
    }
    for (const u of await q.uploads.list()) {
      if (now - u.mtimeMs < opts.uploadMaxAgeMs) continue;
      report.uploadsDeleted++;
      if (!opts.dryRun) await q.uploads.remove(u.id);
    }
    const kept = (d: Digest, st: FileInfo | null): boolean => !st || marked.has(d.value) || run.used.has(d.value) || now - st.mtimeMs < opts.graceMs;
    const candidates: Digest[] = [];
    for (const alg of await q.driver.list(`${LAYOUT_VERSION}/blobs`)) {
      for (const pre of await q.driver.list(`${LAYOUT_VERSION}/blobs/${alg}`)) {
        await forEachLimit(await q.driver.list(`${LAYOUT_VERSION}/blobs/${alg}/${pre}`), SWEEP_CONCURRENCY, async (hex) => {
          const d = parseDigest(`${alg}:${hex}`);
          if (!d.ok) return;
          const st = await q.blobs.stat(d.digest);
          if (!st) return;
          if (kept(d.digest, st)) report.blobsKept++;
          else candidates.push(d.digest);
        });
      }
    }
    const sweep = async (d: Digest): Promise<void> => {
      // Checked again with no commit in flight: a push may have used or rewritten it since.
      const st = await q.blobs.stat(d);
      if (kept(d, st)) {
        if (st) report.blobsKept++;
        return;
      }
      report.blobsDeleted++;
      report.bytesFreed += st?.size ?? 0;
      report.deleted.push(d.value);
      if (!opts.dryRun) await q.blobs.delete(d);
    };
    if (opts.dryRun) await forEachLimit(candidates, SWEEP_CONCURRENCY, sweep);
    else await s.gcGate.inBatches(candidates, sweep);
  } finally {
    run.end();
  }
  report.ms = Date.now() - t0;
  return report;
}

/** The gc options of a config. */
export function gcOptions(s: { config: Pick<Config, 'gc'> }, dryRun: boolean): GcOptions {
  const g = s.config.gc;
  return { dryRun, graceMs: g.graceMinutes * 60_000, uploadMaxAgeMs: g.uploadMaxAgeHours * 3_600_000 };
}

/** The online mode: one job at a time; pushes go on beside it. */
export function runGc(s: GcServer & { config: Pick<Config, 'gc'> }, dryRun: boolean): Promise<GcReport> {
  return s.gcGate.job(() => collectGarbage(s, Date.now(), gcOptions(s, dryRun)));
}
