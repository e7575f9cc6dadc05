import type { AccessTimes } from '../cache/access-times.ts';
import type { Config } from '../config/schema.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { evict } from './evict.ts';
import type { EvictReport, EvictServer } from './evict.ts';

/** What eviction uses: the store, the access log, the gc lock, metrics, and the config's budgets. */
export type EvictorDeps = EvictServer & { config: Pick<Config, 'repos' | 'cacheBudget'>; accessTimes: AccessTimes; metrics: ServerMetrics };

const FLUSH_MS = 30_000;

/**
 * Keeps remote repos within their disk budgets: each repo's own `cache.maxBytes`, then the global
 * `cacheBudget` over all of them. Runs on a schedule and as soon as the bytes fetched since the last
 * scan push a repo's estimate past its high mark; one job at a time with gc, beside pushes and
 * fills (src/storage/gc-gate.ts): a push waits for one short batch of deletions at most.
 */
export class Evictor {
  private readonly estimate = new Map<string, number>();
  private running: Promise<EvictReport[]> | undefined;
  private again = false;

  constructor(private readonly s: EvictorDeps) {
    // Budgets as metrics, so an alert can compare binaryrepo_cache_bytes against them.
    for (const r of this.remotes()) if (r.maxBytes > 0) s.metrics.cacheBudget.set({ repo: r.name }, r.maxBytes);
    if (s.config.cacheBudget.maxBytes > 0) s.metrics.cacheBudget.set({ repo: '(global)' }, s.config.cacheBudget.maxBytes);
  }

  /** Every remote repo, whatever its format: each has a `cache` budget (0 = none of its own). */
  private remotes(): Array<{ name: string; maxBytes: number; high: number; low: number }> {
    const out = [];
    for (const r of this.s.config.repos) {
      if (r.type === 'remote') out.push({ name: r.name, maxBytes: r.cache.maxBytes, high: r.cache.highWatermark, low: r.cache.lowWatermark });
    }
    return out;
  }

  /**
   * A remote repo's cache use as last scanned plus what was cached since, or undefined before its
   * first scan: the one figure the repository list, the admin page, the API and the metric show.
   */
  usage(repo: string): number | undefined {
    return this.estimate.get(repo);
  }

  /** Called when a fill was cached: estimates usage without a scan. */
  noteCached(repo: string, bytes: number): void {
    const est = this.estimate.get(repo);
    if (est === undefined) return;
    this.estimate.set(repo, est + bytes);
    this.s.metrics.cacheBytes.set({ repo }, est + bytes);
    const cfg = this.remotes().find((r) => r.name === repo);
    const total = [...this.estimate.values()].reduce((a, b) => a + b, 0);
    const g = this.s.config.cacheBudget;
    if ((cfg && cfg.maxBytes > 0 && est + bytes > cfg.maxBytes * cfg.high) || (g.maxBytes > 0 && total > g.maxBytes * g.highWatermark)) this.trigger();
  }

  trigger(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run(false)
      .catch((e: unknown) => {
        this.s.log.error('eviction failed', { error: String(e) });
        return [];
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.trigger();
        }
      });
  }

  /** Per-repo budgets, then the global one. With dryRun, reports what would go and changes nothing. */
  async run(dryRun: boolean): Promise<EvictReport[]> {
    const remotes = this.remotes();
    return this.s.gcGate.job(async () => {
      const reports: EvictReport[] = [];
      for (const r of remotes) {
        const budget = r.maxBytes > 0 ? { maxBytes: r.maxBytes, high: r.high, low: r.low } : { maxBytes: Number.POSITIVE_INFINITY, high: 1, low: 1 };
        const rep = await evict(this.s, this.s.accessTimes, [r.name], budget, dryRun);
        this.record(rep, r.name, dryRun);
        reports.push(rep);
      }
      const g = this.s.config.cacheBudget;
      if (g.maxBytes > 0 && remotes.length > 0) {
        const rep = await evict(this.s, this.s.accessTimes, remotes.map((r) => r.name), { maxBytes: g.maxBytes, high: g.highWatermark, low: g.lowWatermark }, dryRun);
        this.record(rep, '(global)', dryRun);
        reports.push(rep);
      }
      return reports;
    });
  }

  private record(rep: EvictReport, label: string, dryRun: boolean): void {
    // A dry run measured the usage as it is (usageBefore); a real one left usageAfter.
    const now = dryRun ? rep.usageBefore : rep.usageAfter;
    if (rep.repos.length === 1) this.estimate.set(label, now);
    this.s.metrics.cacheBytes.set({ repo: label }, now);
    if (dryRun) return;
    if (rep.manifests + rep.blobsUnlinked === 0) return;
    this.s.metrics.evictions.inc({ repo: label, kind: 'manifest' }, rep.manifests);
    this.s.metrics.evictions.inc({ repo: label, kind: 'blob' }, rep.blobsUnlinked);
    this.s.metrics.evictedBytes.inc({ repo: label }, rep.bytesFreed);
    this.s.log.info('evicted', { repo: label, manifests: rep.manifests, blobs: rep.blobsUnlinked, deleted: rep.blobsDeleted, bytes: rep.bytesFreed, usage: rep.usageAfter });
  }

  /** Starts the schedule (a first scan now, then every checkIntervalSeconds) and the access-log flush. */
  schedule(): () => void {
    const every = this.s.config.cacheBudget.checkIntervalSeconds * 1000;
    const anyBudget = this.s.config.cacheBudget.maxBytes > 0 || this.remotes().some((r) => r.maxBytes > 0);
    const flush = setInterval(() => void this.s.accessTimes.flush().catch((e: unknown) => this.s.log.warn('access log flush failed', { error: String(e) })), FLUSH_MS);
    const check = anyBudget && every > 0 ? setInterval(() => this.trigger(), every) : undefined;
    if (anyBudget) this.trigger();
    return () => {
      clearInterval(flush);
      if (check) clearInterval(check);
      void this.s.accessTimes.flush().catch(() => {});
    };
  }
}
