/**
 * A small Prometheus registry: counters and gauges with labels, rendered in the text exposition
 * format. Created per server by boot.ts (no module state), so tests read their own numbers.
 */
type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  series: Map<string, Series>;
  /**
   * The same series by their labels in the order a caller wrote them (no sort, no escaping): every
   * request counts into several metrics, and the canonical key cost ~0.4 µs each time.
   */
  byOrder: Map<string, Series>;
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** Label values are almost never escaped: test once, replace only when needed (this runs on every request). */
function escapeValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

const SEPARATORS = /[\u0000\u0001]/;

/** Labels as written, in their order: a lookup key only; null when a value holds a separator. */
function orderKey(labels: Labels): string | null {
  let out = '';
  for (const k in labels) {
    const v = labels[k] ?? '';
    if (SEPARATORS.test(v)) return null;
    out += `${k}\u0000${v}\u0001`;
  }
  return out;
}

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const k of keys) out += `${out ? ',' : ''}${k}="${escapeValue(String(labels[k]))}"`;
  return out;
}

export class Counter {
  constructor(private readonly m: Metric) {}
  inc(labels: Labels = {}, by = 1): void {
    const fast = orderKey(labels);
    let s = fast === null ? undefined : this.m.byOrder.get(fast);
    if (!s) {
      const k = labelKey(labels);
      s = this.m.series.get(k);
      if (!s) {
        s = { labels, value: 0 };
        this.m.series.set(k, s);
      }
      if (fast !== null) this.m.byOrder.set(fast, s);
    }
    s.value += by;
  }
  get(labels: Labels = {}): number {
    return this.m.series.get(labelKey(labels))?.value ?? 0;
  }
  /** Every series whose labels include `match`. */
  series(match: Labels = {}): Array<{ labels: Labels; value: number }> {
    return [...this.m.series.values()].filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v)).map((s) => ({ labels: s.labels, value: s.value }));
  }

  /** Sum over every series whose labels include `match`. */
  sum(match: Labels = {}): number {
    let t = 0;
    for (const s of this.m.series.values()) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) t += s.value;
    }
    return t;
  }
}

export class Gauge extends Counter {
  set(labels: Labels, value: number): void {
    this.inc(labels, value - this.get(labels));
  }
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add(name: string, help: string, type: Metric['type']): Metric {
    if (this.metrics.has(name)) throw new Error(`metric ${name} registered twice`);
    const m: Metric = { name, help, type, series: new Map(), byOrder: new Map() };
    this.metrics.set(name, m);
    return m;
  }

  counter(name: string, help: string): Counter {
    return new Counter(this.add(name, help, 'counter'));
  }

  gauge(name: string, help: string): Gauge {
    return new Gauge(this.add(name, help, 'gauge'));
  }

  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
      for (const s of m.series.values()) {
        const l = labelKey(s.labels);
        out.push(`${m.name}${l ? `{${l}}` : ''} ${s.value}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
}

/** Every metric the server exports, created once per server. */
export function createServerMetrics(reg: MetricsRegistry) {
  return {
    registry: reg,
    requests: reg.counter('binaryrepo_http_requests_total', 'HTTP requests by repo, method and status'),
    cache: reg.counter('binaryrepo_cache_results_total', 'Cache results (HIT, MISS, STALE, REVALIDATED, COALESCED; LOCAL for hosted repos)'),
    bytesServed: reg.counter('binaryrepo_bytes_served_total', 'Body bytes announced to clients, by source'),
    bytesFetched: reg.counter('binaryrepo_upstream_bytes_fetched_total', 'Bytes written to the cache from upstream'),
    upstreamRequests: reg.counter('binaryrepo_upstream_requests_total', 'Upstream requests by repo and status'),
    upstreamRateLimit: reg.gauge('binaryrepo_upstream_ratelimit_remaining', 'Last RateLimit-Remaining from upstream'),
    fillsInFlight: reg.gauge('binaryrepo_fills_in_flight', 'Upstream blob downloads in progress'),
    bodiesInFlight: reg.gauge('binaryrepo_request_bodies_in_flight', 'Requests with a body (uploads, forms) being received'),
    fills: reg.counter('binaryrepo_fills_total', 'Finished upstream blob downloads by result'),
    coalesced: reg.counter('binaryrepo_coalesced_waiters_total', 'Requests that joined a download in progress'),
    replicaFills: reg.counter(
      'binaryrepo_replica_fill_events_total',
      'Shared stores: fills by event (leased: this replica fetched; waited: another replica held the lease; from_peer: served what another replica stored; takeover: took over the lease of a replica that stopped renewing it)',
    ),
    cacheBudget: reg.gauge('binaryrepo_cache_budget_bytes', 'Configured cache budget of each remote repo with one ((global): the cacheBudget over all)'),
    cacheBytes: reg.gauge('binaryrepo_cache_bytes', 'Bytes held by each remote repo at the last eviction scan ((global): all of them)'),
    evictions: reg.counter('binaryrepo_evictions_total', 'Evicted manifests and unlinked blobs, by repo'),
    evictedBytes: reg.counter('binaryrepo_evicted_bytes_total', 'Bytes freed by eviction, by repo'),
    notifications: reg.counter('binaryrepo_notifications_total', 'Webhook events by endpoint and result (delivered, failed attempts, dropped)'),
  };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;
