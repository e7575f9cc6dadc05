import type { BlobStore, StoredBlob } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import { Fill } from './fills.ts';
import { Lru } from '../util/lru.ts';
import type { ReplicaFills } from './replica-fills.ts';
import type { FillHooks, FillSource } from './fills.ts';

/**
 * Coalesces concurrent misses: one Fill per cache key (a digest, or a format's own key such as an
 * upstream path), however many clients ask at once.
 */
export class FillManager {
  private readonly inflight = new Map<string, Fill>();
  private readonly owners = new Map<string, string>();
  private readonly settling = new Map<string, Promise<void>>();
  /** Every fill not yet settled, including ones replaced by a fresh fill (idle() waits for all). */
  private readonly pending = new Set<Promise<void>>();
  /**
   * Fills that settled lately, by key, with the sequence number of their settling. A client that
   * looked at the store before one settled (a miss) and joins after it was forgotten gets it
   * (complete) instead of starting a second upstream download: the window between a format's store
   * check and its join (issue 24, 2: 2 upstream GETs for 8 concurrent helm pulls under load).
   */
  private readonly recent = new Lru<{ seq: number; fill: Fill }>(1024);
  private seq = 0;

  constructor(
    private readonly blobs: BlobStore,
    private readonly hooks: FillHooks = {},
    /** On a shared store: fills of known digests coalesce across replicas too (one upstream GET). */
    private readonly replicas?: ReplicaFills,
  ) {}

  /** Who started the fill in flight for this key (a repo name), if any. */
  ownerOf(key: string): string | undefined {
    return this.owners.get(key);
  }

  /**
   * Take before looking in the store for what a fill would bring: passed to `join`, it lets a fill
   * that settled after the look be joined although it is no longer in flight.
   */
  ticket(): number {
    return this.seq;
  }

  /** The fill in flight for a key, if any (HEAD answers from it without asking upstream). */
  inFlight(key: string): Fill | undefined {
    return this.inflight.get(key);
  }

  /**
   * `stored` runs once the blob is committed and before the fill is forgotten (the owner links it
   * there): a request arriving in between finds the fill, waits for `settled`, and sees the link.
   */
  join(
    key: string,
    /** The digest the bytes must have, when known up front; else it is computed at commit. */
    expected: Digest | undefined,
    start: () => Promise<FillSource>,
    owner = '',
    stored?: (b: StoredBlob) => Promise<void>,
    /** A running fill that has received nothing for this long is not joined: a fresh one starts. */
    stallMs = Number.POSITIVE_INFINITY,
    /** The caller's `ticket()` from before its store check. */
    seen?: number,
  ): { fill: Fill; coalesced: boolean } {
    const existing = this.inflight.get(key);
    if (!existing && seen !== undefined) {
      const r = this.recent.get(key);
      if (r && r.seq > seen && r.fill.state === 'done') {
        this.hooks.joined?.();
        return { fill: r.fill, coalesced: true };
      }
    }
    // A failed fill is never joined (it is forgotten a moment later), nor one that stopped moving:
    // a new client must not inherit a download that will fail, after the upstream has recovered.
    const stalled = existing?.state === 'running' && Date.now() - existing.lastProgressAt > stallMs;
    if (existing && existing.state !== 'failed' && !stalled) {
      this.hooks.joined?.();
      return { fill: existing, coalesced: true };
    }
    const begin = expected && this.replicas ? this.replicas.guard(expected, start) : start;
    const fill = new Fill(this.blobs, key, expected, begin, this.hooks);
    this.inflight.set(key, fill);
    this.owners.set(key, owner);
    const forget = (): void => {
      if (this.inflight.get(key) !== fill) return;
      this.inflight.delete(key);
      this.owners.delete(key);
      this.settling.delete(key);
    };
    const settled = fill.done.then(async (b) => {
      await stored?.(b);
    });
    const quiet = settled.catch(() => {});
    this.settling.set(key, quiet);
    this.pending.add(quiet);
    void quiet.then(() => this.pending.delete(quiet));
    settled.then(() => {
      if (this.inflight.get(key) === fill) this.recent.set(key, { seq: ++this.seq, fill });
      forget();
    }, forget);
    return { fill, coalesced: false };
  }

  /** Resolves when the fill in flight for this key (if any) is committed and its owner has linked it. */
  settled(key: string): Promise<void> | undefined {
    return this.settling.get(key);
  }

  /** Resolves once no fill is in flight or settling: every download committed (or failed) and linked. */
  async idle(): Promise<void> {
    while (this.pending.size > 0 || this.settling.size > 0) {
      await Promise.all([...this.pending, ...this.settling.values()]);
      // `forget` runs right after a fill settles; let it.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  get size(): number {
    return this.inflight.size;
  }
}
