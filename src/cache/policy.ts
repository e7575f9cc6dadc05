import { Lru } from '../util/lru.ts';
/**
 * Freshness decisions for mutable references (tags now; Go lists and Helm indexes later). Pure:
 * the caller passes the clock. By-digest content is immutable and never asks.
 */
export interface CacheRule {
  /** How long a cached tag is served without asking upstream. */
  ttlMs: number;
  /** How long past its TTL a copy may still be served while the upstream fails; 0 = no limit. */
  maxStaleMs: number;
}

export type Freshness = 'fresh' | 'revalidate';

export function freshness(fetchedAt: number, now: number, rule: CacheRule): Freshness {
  return now - fetchedAt < rule.ttlMs ? 'fresh' : 'revalidate';
}

/** After a failed revalidation: may the stale copy still be served? */
export function mayServeStale(fetchedAt: number, now: number, rule: CacheRule): boolean {
  if (rule.maxStaleMs === 0) return true;
  return now - fetchedAt < rule.ttlMs + rule.maxStaleMs;
}

/**
 * Short-lived memory of "upstream said not found", so a burst of pulls for a missing tag costs one
 * upstream request. Entries expire on read; no timers.
 */
export class NegativeCache {
  private readonly entries: Lru<number>;

  constructor(
    private readonly ttlMs: number,
    protected readonly now: () => number,
    maxEntries = 10_000,
  ) {
    // Not a Map dropping its first key when full: on V8 that walk grows with the keys deleted before.
    this.entries = new Lru<number>(maxEntries);
  }

  has(key: string): boolean {
    const until = this.entries.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(key, this.now() + this.ttlMs);
  }

  /** Remembers an answer until a given time (entries read back from a store). */
  protected remember(key: string, until: number): void {
    if (until > this.now()) this.entries.set(key, until);
  }

  get ttl(): number {
    return this.ttlMs;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
