import { Lru } from '../util/lru.ts';
import { freshness, mayServeStale } from '../cache/policy.ts';
import type { CacheStatus } from '../cache/status.ts';
import { RegistryError, isRegistryError } from '../errors.ts';
import { SingleFlight } from '../upstream/singleflight.ts';
import type { RemoteCacheDeps } from './remote-cache.ts';

/** A remote's stored copy of one mutable upstream document (an npm packument, a PyPI project page). */
export interface FetchedDoc {
  fetchedAt: number;
}

/**
 * The kit's policy for a remote's mutable documents: fresh within the TTL; else asked upstream
 * (one request however many clients ask, conditional when the format sends validators); served
 * STALE while the upstream fails (within maxStaleSeconds), a failure remembered for min(TTL, 30 s)
 * so a broken upstream is not asked by every request (or until its Retry-After); an upstream 404 remembered in the negative
 * cache (negativeTtlSeconds) so a name published a minute later is not hidden for long. Offline:
 * what is stored, else not found.
 */
export class RemoteDocs<D extends FetchedDoc> {
  private readonly refreshes = new SingleFlight<{ doc: D; cache: CacheStatus }>();
  private readonly failed = new Lru<{ until: number; error: unknown }>(10_000);

  constructor(
    private readonly d: RemoteCacheDeps,
    private readonly what: string,
  ) {}

  /**
   * `key`: the document's MetaStore key; `name`: what negative answers and logs name;
   * `refresh(prev)`: asks the upstream (prev: the stored copy, for validators), stores and returns
   * the next copy and how it was got (MISS, REVALIDATED). `forced`: asked whatever the TTL.
   */
  async current(key: string, name: string, forced: boolean, refresh: (prev: D | null) => Promise<{ doc: D; cache: CacheStatus }>): Promise<{ doc: D; cache: CacheStatus }> {
    const doc = await this.d.meta.get<D>(key);
    const now = this.d.now();
    if (doc && this.d.offline()) return { doc, cache: 'HIT' };
    if (doc && !forced && freshness(doc.fetchedAt, now, this.d.rule) === 'fresh') return { doc, cache: 'HIT' };
    if (this.d.offline()) throw new RegistryError('not_found', `not found: ${this.what} ${name} (not cached; repository ${this.d.repo} is offline)`, { code: 'NOT_FOUND' });
    if (!doc && this.d.negative.has(name)) throw new RegistryError('not_found', `not found: ${this.what} ${name} (cached upstream answer)`, { code: 'NOT_FOUND' });
    const stale = (e: unknown): { doc: D; cache: CacheStatus } => {
      if (!doc || !mayServeStale(doc.fetchedAt, now, this.d.rule) || (isRegistryError(e) && e.kind === 'not_found')) throw e;
      return { doc, cache: 'STALE' };
    };
    const failed = this.failed.get(name);
    if (failed && failed.until > now && !forced) return stale(failed.error);
    try {
      const next = await this.refreshes.do(name, () => refresh(doc)).promise;
      this.failed.delete(name);
      return next;
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'not_found') this.d.negative.add(name);
      else {
        // An upstream that said when to come back (429 / 503 Retry-After) is not asked before then (at most 10 min).
        const after = isRegistryError(e) && e.retryAfter !== undefined ? Math.min(e.retryAfter, 600) * 1000 : 0;
        this.failed.set(name, { until: now + Math.max(1000, Math.min(this.d.rule.ttlMs, 30_000), after), error: e });
        this.d.log.warn(`${this.what} refresh failed`, { repo: this.d.repo, name, error: String(e) });
      }
      return stale(e);
    }
  }
}
