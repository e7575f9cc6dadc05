/**
 * What a read cost, in the `X-Cache` header and the access log, for every format: HIT (from the
 * cache), MISS (fetched upstream now), STALE (cached copy while the upstream fails), REVALIDATED
 * (the upstream confirmed the cached copy), COALESCED (joined another client's download in flight),
 * LOCAL (a hosted repo: no cache involved).
 */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED' | 'COALESCED' | 'LOCAL';
