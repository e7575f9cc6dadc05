import type { MetaStore } from '../storage/meta-store.ts';
import { layout } from '../storage/layout.ts';
import { pushTo } from '../util/maps.ts';

type Shard = Record<string, number>;

/**
 * Entries one shard document keeps (the most recent); with 256 shards a repo remembers about a
 * million objects, and a shard stays far below the meta store's document cap.
 */
export const MAX_PER_SHARD = 4096;

/**
 * Last access per cached object (by digest), for LRU eviction. A hit only touches memory; flush()
 * merges the batch into documents sharded by the digest's first two hex characters, so a busy
 * cache writes at most 256 small documents per flush instead of one per request, and the times
 * survive restarts.
 */
export class AccessTimes {
  private pending = new Map<string, Map<string, number>>();

  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number,
  ) {}

  touch(repo: string, digest: string): void {
    let m = this.pending.get(repo);
    if (!m) this.pending.set(repo, (m = new Map()));
    m.set(digest, this.now());
  }

  async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    for (const [repo, entries] of batch) {
      const shards = new Map<string, Array<[string, number]>>();
      for (const [d, t] of entries) pushTo(shards, shardOf(d), [d, t]);
      for (const [s, list] of shards) {
        const key = layout.access(repo, s);
        const doc: Shard = { ...((await this.meta.get<Shard>(key)) ?? {}) };
        for (const [d, t] of list) doc[d] = Math.max(doc[d] ?? 0, t);
        await this.meta.put(key, bounded(doc));
      }
    }
  }

  /** Every recorded access time of a repo (flushes first). */
  async times(repo: string): Promise<Map<string, number>> {
    await this.flush();
    const out = new Map<string, number>();
    for (const s of await this.meta.list(layout.accessDir(repo))) {
      for (const [d, t] of Object.entries((await this.meta.get<Shard>(layout.access(repo, s))) ?? {})) out.set(d, t);
    }
    return out;
  }

  /** Drops entries of evicted objects. */
  async forget(repo: string, digests: string[]): Promise<void> {
    await this.flush();
    const byShard = new Map<string, string[]>();
    for (const d of digests) pushTo(byShard, shardOf(d), d);
    for (const [s, list] of byShard) {
      const key = layout.access(repo, s);
      const doc = await this.meta.get<Shard>(key);
      if (!doc) continue;
      const next = { ...doc };
      for (const d of list) delete next[d];
      await this.meta.put(key, next);
    }
  }
}

/** The newest MAX_PER_SHARD entries; the rest were not read for longest and count as never read. */
function bounded(doc: Shard): Shard {
  const entries = Object.entries(doc);
  if (entries.length <= MAX_PER_SHARD) return doc;
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).slice(0, MAX_PER_SHARD));
}

function shardOf(digest: string): string {
  const hex = digest.slice(digest.indexOf(':') + 1);
  return /^[0-9a-f]{2}/.test(hex) ? hex.slice(0, 2) : '00';
}
