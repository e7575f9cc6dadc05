import type { BlobStore, StoredBlob } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import { Fill } from './fills.ts';
import type { FillHooks, FillSource } from './fills.ts';

/** Coalesces concurrent misses: one Fill per digest, however many clients ask at once. */
export class FillManager {
  private readonly inflight = new Map<string, Fill>();
  private readonly owners = new Map<string, string>();
  private readonly settling = new Map<string, Promise<void>>();
  /** Every fill not yet settled, including ones replaced by a fresh fill (idle() waits for all). */
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly hooks: FillHooks = {},
  ) {}

  /** Who started the fill in flight for this digest (a repo name), if any. */
  ownerOf(digest: Digest): string | undefined {
    return this.owners.get(digest.value);
  }

  /** The fill in flight for a digest, if any (HEAD answers from it without asking upstream). */
  inFlight(digest: Digest): Fill | undefined {
    return this.inflight.get(digest.value);
  }

  /**
   * `stored` runs once the blob is committed and before the fill is forgotten (the owner links it
   * there): a request arriving in between finds the fill, waits for `settled`, and sees the link.
   */
  join(
    digest: Digest,
    start: () => Promise<FillSource>,
    owner = '',
    stored?: (b: StoredBlob) => Promise<void>,
    /** A running fill that has received nothing for this long is not joined: a fresh one starts. */
    stallMs = Number.POSITIVE_INFINITY,
  ): { fill: Fill; coalesced: boolean } {
    const existing = this.inflight.get(digest.value);
    // A failed fill is never joined (it is forgotten a moment later), nor one that stopped moving:
    // a new client must not inherit a download that will fail, after the upstream has recovered.
    const stalled = existing?.state === 'running' && Date.now() - existing.lastProgressAt > stallMs;
    if (existing && existing.state !== 'failed' && !stalled) {
      this.hooks.joined?.();
      return { fill: existing, coalesced: true };
    }
    const fill = new Fill(this.blobs, digest, start, this.hooks);
    this.inflight.set(digest.value, fill);
    this.owners.set(digest.value, owner);
    const forget = (): void => {
      if (this.inflight.get(digest.value) !== fill) return;
      this.inflight.delete(digest.value);
      this.owners.delete(digest.value);
      this.settling.delete(digest.value);
    };
    const settled = fill.done.then(async (b) => {
      await stored?.(b);
    });
    const quiet = settled.catch(() => {});
    this.settling.set(digest.value, quiet);
    this.pending.add(quiet);
    void quiet.then(() => this.pending.delete(quiet));
    settled.then(forget, forget);
    return { fill, coalesced: false };
  }

  /** Resolves when the fill in flight for this digest (if any) is committed and its owner has linked it. */
  settled(digest: Digest): Promise<void> | undefined {
    return this.settling.get(digest.value);
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
