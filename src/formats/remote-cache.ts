import type { AccessTimes } from '../cache/access-times.ts';
import type { FillManager } from '../cache/fill-manager.ts';
import { NegativeCache } from '../cache/policy.ts';
import { StoredNegativeCache } from '../cache/stored-negative.ts';
import type { CacheRule } from '../cache/policy.ts';
import { RegistryError, isRegistryError } from '../errors.ts';
import { readLimited } from '../util/streams.ts';
import type { Logger } from '../log.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import { upstreamClientFor } from '../upstream/build.ts';
import type { UpstreamClient } from '../upstream/client.ts';
import type { RwLock } from '../util/rwlock.ts';
import type { BuildDeps } from './format.ts';

/** What every format's remote (pull-through) repo is built from; each format adds its own pieces. */
export interface RemoteCacheDeps {
  repo: string;
  blobs: BlobStore;
  meta: MetaStore;
  fills: FillManager;
  /** Upstream "not found" answers, remembered briefly. */
  negative: NegativeCache;
  /** ttlMs: how long mutable answers (tags, lists, files) are fresh; maxStaleMs: how long past it they may be served while the upstream fails. */
  rule: CacheRule;
  /** Cached content only: a miss is "not found" and nothing is revalidated. Asked per request: an admin can switch it. */
  offline: () => boolean;
  /** An upstream body that sends nothing for this long fails. */
  idleTimeoutMs: number;
  /** Records reads for LRU eviction (batched in memory). */
  accessTimes: AccessTimes;
  /** Told about every byte the cache gained, so the evictor can act before its next scan. */
  cached: (bytes: number) => void;
  now: () => number;
  log: Logger;
}

/** The remote-cache pieces of one remote repo's config, whatever its format. */
export function remoteCacheDeps(
  cfg: { name: string; offline: boolean; upstream: { idleTimeoutSeconds: number }; cache: { negativeTtlSeconds: number; maxStaleSeconds: number } },
  ttlSeconds: number,
  d: BuildDeps,
): RemoteCacheDeps {
  return {
    repo: cfg.name,
    blobs: d.blobs,
    meta: d.meta,
    fills: d.fills,
    negative: new NegativeCache(cfg.cache.negativeTtlSeconds * 1000, d.now),
    rule: { ttlMs: ttlSeconds * 1000, maxStaleMs: cfg.cache.maxStaleSeconds * 1000 },
    offline: () => d.switches.offline(cfg.name) ?? cfg.offline,
    idleTimeoutMs: cfg.upstream.idleTimeoutSeconds * 1000,
    accessTimes: d.accessTimes,
    cached: (bytes) => d.cached(cfg.name, bytes),
    now: d.now,
    log: d.log,
  };
}

/**
 * A remote of a metadata format (Maven, Cargo): the kit's remote-cache pieces with metadataTtlSeconds
 * as the TTL, its upstream client, the gc gate, and a negative cache kept across restarts in one
 * document at `negativeKey` (cache/stored-negative.ts; the format awaits its load() before answering).
 */
export function storedNegativeRemoteDeps(
  cfg: Parameters<typeof remoteCacheDeps>[0] & { upstream: Parameters<typeof upstreamClientFor>[1]; cache: { metadataTtlSeconds: number } },
  negativeKey: string,
  d: BuildDeps,
): RemoteCacheDeps & { negative: StoredNegativeCache; upstream: UpstreamClient; gcGate: RwLock } {
  return {
    ...remoteCacheDeps(cfg, cfg.cache.metadataTtlSeconds, d),
    negative: new StoredNegativeCache(cfg.cache.negativeTtlSeconds * 1000, d.now, d.meta, negativeKey, d.log),
    upstream: upstreamClientFor(cfg.name, cfg.upstream, d),
    gcGate: d.gcGate,
  };
}

/** An upstream document's body, at most `max` bytes: larger is the upstream's fault (502 with the reason), never a 413 of ours. */
export async function upstreamBody(d: { idleTimeoutMs: number; upstream: UpstreamClient }, res: Response, max: number, what: string): Promise<Uint8Array> {
  try {
    return await readLimited(res.body, max, d.idleTimeoutMs, `upstream ${what}`);
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('upstream', `upstream ${d.upstream.host} sent ${what} larger than ${max} bytes`);
    throw e;
  }
}
