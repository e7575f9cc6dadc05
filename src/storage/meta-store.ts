import { Lru } from '../cache/lru.ts';
import { fromStorageError } from '../errors.ts';
import type { StorageDriver } from './driver.ts';
import { layout } from './layout.ts';

const MAX_DOC_BYTES = 1 << 20;
const CACHE_BYTES = 64 * 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface DocOptions {
  /** Keep the document in the in-memory cache (default true). */
  remember?: boolean;
}

/**
 * Small JSON documents (tags, links) replaced atomically. A document that fails to parse (a torn
 * write can't happen with rename, but a hand-edited or foreign file can) reads as absent.
 *
 * Documents read or written by this process are remembered (write-through, positive entries
 * only), so a warm manifest request costs no file reads. One server process owns a store; the
 * offline gc only removes links, which every reader double-checks against the blob itself.
 * Returned documents are shared: callers must not mutate them.
 */
export class MetaStore {
  /** Bounded by count and by bytes (the documents' JSON size): large documents cannot crowd memory. */
  private readonly cache = new Lru<{ doc: unknown; size: number }>(20_000, CACHE_BYTES, (e) => e.size);

  constructor(
    private readonly driver: StorageDriver,
    private readonly newId: () => string,
  ) {}

  /** `remember: false` for the larger, rarely read documents (kept lists) that would crowd the cache. */
  async get<T>(key: string, opts: DocOptions = {}): Promise<T | null> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit.doc as T;
    const bytes = await this.driver.readAll(key, MAX_DOC_BYTES).catch((e: unknown) => {
      // A document over the cap (a foreign or hand-made file) reads as absent, like a torn one: it
      // must never stop a job (eviction, gc) that reads every document.
      if ((e as { code?: unknown } | null)?.code === 'EFBIG') return null;
      throw e;
    });
    if (!bytes) return null;
    try {
      const doc = JSON.parse(decoder.decode(bytes)) as T;
      if (opts.remember !== false) this.cache.set(key, { doc, size: bytes.byteLength });
      return doc;
    } catch {
      return null;
    }
  }

  async put(key: string, doc: unknown, opts: DocOptions = {}): Promise<void> {
    let bytes: Uint8Array;
    try {
      // No fsync: a doc torn by a power cut fails to parse and reads as absent (we refetch), while
      // an fsync per tag/link doc would sit on the critical path of every cold pull.
      bytes = encoder.encode(JSON.stringify(doc));
      await this.driver.writeAtomic(key, bytes, layout.temp(this.newId()), false);
    } catch (e) {
      this.cache.delete(key);
      throw fromStorageError(e, key);
    }
    if (opts.remember === false) this.cache.delete(key);
    else this.cache.set(key, { doc, size: bytes.byteLength });
  }

  async exists(key: string): Promise<boolean> {
    if (this.cache.get(key) !== undefined) return true;
    return (await this.driver.stat(key)) !== null;
  }

  delete(key: string): Promise<boolean> {
    this.cache.delete(key);
    return this.driver.delete(key);
  }

  /** Removes a folder and everything under it (upload sessions), forgetting cached documents. */
  async deleteTree(prefix: string): Promise<boolean> {
    this.cache.clear(prefix);
    return this.driver.deleteTree(prefix);
  }

  list(prefix: string): Promise<string[]> {
    return this.driver.list(prefix);
  }
}
