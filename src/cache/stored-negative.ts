import type { Logger } from '../log.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import { NegativeCache } from './policy.ts';

/** The stored list stays well under a document's 1 MiB. */
const MAX_STORED_BYTES = 768 * 1024;
/** A burst of misses is written once per this interval, not once per miss. */
const WRITE_EVERY_MS = 2000;

/**
 * A negative cache that is kept across restarts (a build tool probing many paths a repository
 * never had should not send them all upstream again after every deploy of the server): the
 * entries live in memory as NegativeCache's, and are also written to one document, at most every
 * 2 s and bounded in size (the entries that expire last are kept). Read back once, before the
 * first answer. Replicas sharing a bucket share the document (the last write wins: it is a cache).
 */
export class StoredNegativeCache extends NegativeCache {
  private readonly known = new Map<string, number>();
  private loading: Promise<void> | null = null;
  private writing: Promise<void> | null = null;
  private dirty = false;

  constructor(
    ttlMs: number,
    now: () => number,
    private readonly meta: MetaStore,
    private readonly key: string,
    private readonly log: Logger,
  ) {
    super(ttlMs, now);
  }

  load(): Promise<void> {
    this.loading ??= this.meta
      .get<{ entries?: Record<string, number> }>(this.key, { remember: false })
      .then((doc) => {
        for (const [k, until] of Object.entries(doc?.entries ?? {})) {
          if (typeof until !== 'number' || this.known.has(k)) continue;
          this.remember(k, until);
          this.known.set(k, until);
        }
      })
      .catch((e: unknown) => this.log.warn('stored negative cache not read', { key: this.key, error: String(e) }));
    return this.loading;
  }

  override add(key: string): void {
    super.add(key);
    if (this.ttl <= 0) return;
    this.known.set(key, this.now() + this.ttl);
    this.save();
  }

  override delete(key: string): void {
    super.delete(key);
    if (this.known.delete(key)) this.save();
  }

  /** Settles when what is known now has been written (tests, shutdown). */
  async flushed(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private save(): void {
    if (this.writing) {
      this.dirty = true;
      return;
    }
    this.writing = (async () => {
      do {
        this.dirty = false;
        const now = this.now();
        const live = [...this.known].filter(([, until]) => until > now).sort((a, b) => b[1] - a[1]);
        const entries: Record<string, number> = {};
        let bytes = 0;
        this.known.clear();
        for (const [k, until] of live) {
          bytes += k.length + 24;
          if (bytes > MAX_STORED_BYTES) break;
          entries[k] = until;
          this.known.set(k, until);
        }
        await this.meta.put(this.key, { entries });
        await new Promise((r) => setTimeout(r, WRITE_EVERY_MS));
      } while (this.dirty);
    })()
      .catch((e: unknown) => this.log.warn('stored negative cache not written', { key: this.key, error: String(e) }))
      .finally(() => {
        this.writing = null;
      });
  }
}
