import type { Server } from './boot.ts';
import { DockerLocal } from './formats/docker/local.ts';
import { collectGarbage, gcOptions } from './gc.ts';
import type { GcReport } from './gc.ts';
import { applyRetention } from './retention.ts';
import type { RetentionResult } from './retention.ts';

export interface MaintenanceReport {
  retention: RetentionResult[];
  gc: GcReport;
}

/**
 * Retention, then gc, under the gc lock held exclusively: no push lands in between, and the blobs
 * of the tags retention deleted are freed in the same run.
 */
export function runMaintenance(s: Server, dryRun: boolean, now = Date.now()): Promise<MaintenanceReport> {
  return s.gcLock.withExclusive(async () => {
    const retention = await applyRetention(s, now, dryRun);
    const gc = await collectGarbage(s, now, gcOptions(s, dryRun));
    // Quotas count what repos hold: after deletes, count again.
    for (const r of s.repos.values()) if (r.docker instanceof DockerLocal) r.docker.usageChanged();
    return { retention, gc };
  });
}

/** Runs maintenance every `gc.intervalMinutes` when configured; returns the stop function the adapters call. */
export function scheduleMaintenance(s: Server): () => void {
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
