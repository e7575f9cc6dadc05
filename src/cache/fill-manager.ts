import type { BlobStore, StoredBlob } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import { Fill } from './fills.ts';
import type { FillHooks, FillSource } from './fills.ts';

/** Coalesces concurrent misses: one Fill per digest, however many clients ask at once. */
export class FillManager {
  private readonly inflight = new Map<string, Fill>();
  private readonly owners = new Map<string, string>();
  private readonly settling = new Map<string, Promise<void>>();

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
  ): { fill: Fill; coalesced: boolean } {
    const existing = this.inflight.get(digest.value);
    if (existing) {
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
    this.settling.set(digest.value, settled.catch(() => {}));
    settled.then(forget, forget);
    return { fill, coalesced: false };
  }

  /** Resolves when the fill in flight for this digest (if any) is committed and its owner has linked it. */
  settled(digest: Digest): Promise<void> | undefined {
    return this.settling.get(digest.value);
  }

  /** Resolves once no fill is in flight or settling: every download committed (or failed) and linked. */
  async idle(): Promise<void> {
    while (this.settling.size > 0) {
      await Promise.all(this.settling.values());
      // `forget` runs right after a fill settles; let it.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  get size(): number {
    return this.inflight.size;
  }
}
