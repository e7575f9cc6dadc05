import { RwLock } from '../util/rwlock.ts';
import { forEachLimit } from '../util/pool.ts';
import type { Leases } from './lease.ts';
import { layout } from './layout.ts';

/** Deletions per exclusive section: a push waits at most for one batch, never for a whole run. */
const BATCH = 64;
/** Deletions in flight at once inside a batch. */
const BATCH_IO = 16;

/** One gc or eviction run's record of the blobs used since it began. */
export interface Tracked {
  /** Digests stat'ed, opened, read or written by anyone since the run began (existing ones only). */
  readonly used: ReadonlySet<string>;
  end(): void;
}

/**
 * The lock between commits and the storage jobs, and the reference barrier that lets gc and
 * eviction run while pushes go on.
 *
 * Commits (a manifest PUT, a tag, a link, a cache document) run in shared sections and reach every
 * blob they reference through the BlobStore, which reports it here (`note`). A job starts tracking
 * in a short exclusive section — so every commit either finished before (its references are on
 * disk for the mark to read) or notes what it uses into the run's set — then marks and plans
 * without any lock, and deletes in short exclusive batches that skip whatever was used since the
 * run began. A push therefore waits for at most one batch of deletions, not for a mark over the
 * whole store. Jobs themselves run one at a time (`job`), so their reports stay meaningful.
 */
export class GcGate extends RwLock {
  private readonly runs = new Set<Set<string>>();
  private readonly jobs = new RwLock();

  /** On a shared store, the jobs also hold a lease: one gc or eviction at a time across replicas. */
  constructor(private readonly leases?: Leases) {
    super();
  }

  /** A blob that exists was used (read, checked or written): no run that is tracking may delete it. */
  note(digest: string): void {
    for (const r of this.runs) r.add(digest);
  }

  /**
   * Starts recording use. The set grows only with digests of blobs that exist, so it is bounded by
   * the store's blob count however many requests arrive.
   */
  track(): Promise<Tracked> {
    return this.withExclusive(async () => {
      const used = new Set<string>();
      this.runs.add(used);
      return { used, end: () => void this.runs.delete(used) };
    });
  }

  /** gc, eviction and maintenance one at a time (they still never block pushes for long). */
  job<T>(fn: () => Promise<T>): Promise<T> {
    const leases = this.leases;
    if (!leases) return this.jobs.withExclusive(fn);
    return this.jobs.withExclusive(async () => {
      const key = layout.lease('jobs');
      for (let pause = 100; ; pause = Math.min(2000, pause * 2)) {
        const got = await leases.acquire(key);
        if ('lease' in got) {
          try {
            return await fn();
          } finally {
            await got.lease.release().catch(() => {});
          }
        }
        // Another replica runs a job: wait for it (as a second job on this replica would).
        await new Promise((r) => setTimeout(r, pause));
      }
    });
  }

  /**
   * Runs `fn` over items in short exclusive sections of BATCH each; `fn` re-checks what it must
   * (the run's `used` set, a link's age) now that no commit is in flight, and deletes or not.
   */
  async inBatches<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      await this.withExclusive(() => forEachLimit(batch, BATCH_IO, fn));
    }
  }
}
