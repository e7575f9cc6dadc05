import type { ServerMetrics } from './registry.ts';

/** One point of the cache charts: counter totals at `t` (ms). */
export interface Sample {
  t: number;
  /** Body bytes served from the store vs passed through from upstream (every format). */
  servedFromCache: number;
  servedFromUpstream: number;
  /** Bytes downloaded from upstreams into the cache (every format). */
  fetched: number;
  /** Requests answered without an upstream request of their own: hits, coalesced waiters, stale serves. */
  saved: number;
  stale: number;
  misses: number;
  evictions: number;
}

/** A day of points at the default step. */
const MAX_SAMPLES = 1440;

/**
 * The cache statistics over time that the web UI draws: counter totals sampled at most once a
 * `stepMs`, taken when a request arrives (no timer to stop, nothing at all while idle — a gap in
 * the chart then means nothing changed). Bounded to MAX_SAMPLES points.
 */
export class MetricsHistory {
  private readonly samples: Sample[] = [];

  constructor(
    private readonly metrics: ServerMetrics,
    private readonly now: () => number,
    private readonly stepMs = 60_000,
  ) {}

  maybeSample(): void {
    const last = this.samples.at(-1);
    const t = this.now();
    if (last && t - last.t < this.stepMs) return;
    this.samples.push(this.read(t));
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /** The kept points plus the current totals as the last one. */
  series(): Sample[] {
    return [...this.samples, this.read(this.now())];
  }

  private read(t: number): Sample {
    const m = this.metrics;
    const results = (r: string): number => m.cache.sum({ result: r });
    return {
      t,
      servedFromCache: m.bytesServed.sum({ source: 'cache' }),
      servedFromUpstream: m.bytesServed.sum({ source: 'upstream' }),
      fetched: m.bytesFetched.sum(),
      saved: results('HIT') + results('COALESCED') + results('STALE'),
      stale: results('STALE'),
      misses: results('MISS'),
      evictions: m.evictions.sum(),
    };
  }
}
