import type { Config } from '../config/schema.ts';
import type { FormatRepo, RetentionSummary } from '../formats/format.ts';
import type { Logger } from '../log.ts';
import { collectGarbage, gcOptions } from './gc.ts';
import type { GcReport, GcServer } from './gc.ts';

export interface MaintenanceReport {
  /** What each repo's retention policy deleted. */
  retention: RetentionSummary[];
  gc: GcReport;
}

export type MaintenanceDeps = GcServer & { config: Pick<Config, 'gc'>; repos: ReadonlyMap<string, FormatRepo>; log: Logger };

/** Every repo's retention policy, in config order (the CLI's `retention`, and maintenance). */
export async function applyRetention(repos: ReadonlyMap<string, FormatRepo>, now: number, dryRun: boolean): Promise<RetentionSummary[]> {
  const out: RetentionSummary[] = [];
  for (const r of repos.values()) if (r.retain) out.push(...(await r.retain(now, dryRun)));
  return out;
}

/**
 * Retention, then gc, as one job: the blobs of the tags retention deleted are freed in the same
 * run. Neither holds pushes up for longer than one short batch (src/storage/gc-gate.ts); retention's
 * deletes are ordinary commits, like a client's DELETE.
 */
export function runMaintenance(s: MaintenanceDeps, dryRun: boolean, now = Date.now()): Promise<MaintenanceReport> {
  return s.gcGate.job(async () => {
    const retention = await applyRetention(s.repos, now, dryRun);
    const gc = await collectGarbage(s, now, gcOptions(s, dryRun));
    // Quotas count what repos hold: after deletes, count again.
    for (const r of s.repos.values()) r.usageChanged?.();
    return { retention, gc };
  });
}

/** Runs maintenance every `gc.intervalMinutes` when configured; returns the stop function the adapters call. */
export function scheduleMaintenance(s: MaintenanceDeps): () => void {
  const minutes = s.config.gc.intervalMinutes;
  if (!minutes) return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    runMaintenance(s, false)
      .then(({ gc }) => s.log.info('gc finished', { ...gc, deleted: gc.deleted.length }))
      .catch((e: unknown) => s.log.error('gc failed', { error: String(e) }))
      .finally(() => (running = false));
  }, minutes * 60_000);
  return () => clearInterval(timer);
}
