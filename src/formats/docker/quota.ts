import { RegistryError } from '../../errors.ts';
import { digestsUnder, walkImages } from './walk.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { Digest } from '../../storage/digest.ts';
import { layout } from './layout.ts';
import type { MetaStore } from '../../storage/meta-store.ts';

/** A count older than this is taken again (gc or retention run by the CLI may have freed space). */
const RECOUNT_MS = 10 * 60_000;

/**
 * A local repo's storage quota (Harbor's project quota): the bytes of the distinct blobs and
 * manifests its images hold, each counted once per repo however many images share it (and in every
 * repo that holds it). Counted from the store on first use, kept up to date by pushes, counted
 * again after deletes and every few minutes. A push that would go over is refused with DENIED;
 * content the repo already holds is never refused. Checks are serialised per repo, so parallel
 * pushes cannot pass the limit together.
 */
export class RepoQuota {
  private held: Map<string, number> | null = null;
  private total = 0;
  private countedAt = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: string,
    readonly maxBytes: number,
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly now: () => number,
  ) {}

  /** Records `digest` as held by the repo, or throws DENIED when its bytes would pass the quota. */
  admit(digest: Digest, size: number): Promise<void> {
    const run = this.queue.then(async () => {
      const held = await this.count();
      if (held.has(digest.value)) return;
      if (this.total + size > this.maxBytes) {
        throw new RegistryError('denied', `storage quota of repository ${this.repo} exceeded: ${this.total} of ${this.maxBytes} bytes used, ${size} more requested`, {
          code: 'DENIED',
          detail: { used: this.total, limit: this.maxBytes, requested: size },
        });
      }
      held.set(digest.value, size);
      this.total += size;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Bytes a new blob may still have; an upload is cut off as soon as it passes this, so a push over
   * the quota never sits on disk. (An upload of content the repo already holds is never cut.)
   */
  async remaining(): Promise<number> {
    await this.queue;
    await this.count();
    return Math.max(0, this.maxBytes - this.total);
  }

  /**
   * How large an upload session may grow while its digest is unknown (PATCH): the room left, or
   * the largest blob the repo already holds, since a re-upload of held content (another image, the
   * same layer) is never refused and can be no larger. New content is checked again at the end.
   */
  async sessionLimit(): Promise<number> {
    const room = await this.remaining();
    let largest = 0;
    for (const size of (this.held ?? new Map<string, number>()).values()) largest = Math.max(largest, size);
    return Math.max(room, largest);
  }

  /** The refusal a push gets once its bytes would pass the quota. */
  exceeded(requested: number): RegistryError {
    return new RegistryError('denied', `storage quota of repository ${this.repo} exceeded: ${this.total} of ${this.maxBytes} bytes used, ${requested} or more requested`, {
      code: 'DENIED',
      detail: { used: this.total, limit: this.maxBytes, requested },
    });
  }

  /** Whether the repo already holds this content (it never counts twice). */
  async holds(digest: Digest): Promise<boolean> {
    await this.queue;
    return (await this.count()).has(digest.value);
  }

  /** Deletes happened: count again before the next push. */
  invalidate(): void {
    this.held = null;
  }

  async usage(): Promise<number> {
    await this.count();
    return this.total;
  }

  private async count(): Promise<Map<string, number>> {
    if (this.held && this.now() - this.countedAt < RECOUNT_MS) return this.held;
    const held = new Map<string, number>();
    await walkImages({ meta: this.meta }, layout.dockerRepoDir(this.repo), async (imageDir) => {
      for (const sub of ['_layers', '_manifests']) {
        for (const d of await digestsUnder({ meta: this.meta }, `${imageDir}/${sub}`)) {
          if (held.has(d.value)) continue;
          const st = await this.blobs.stat(d);
          if (st) held.set(d.value, st.size);
        }
      }
    });
    this.held = held;
    this.total = [...held.values()].reduce((a, b) => a + b, 0);
    this.countedAt = this.now();
    return held;
  }
}
