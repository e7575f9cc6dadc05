import { Lru } from '../util/lru.ts';
import { RegistryError, fromStorageError } from '../errors.ts';
import type { StorageDriver } from './driver.ts';
import { layout } from './layout.ts';
import { KeyedLock } from '../util/keyed-lock.ts';

const MAX_DOC_BYTES = 1 << 20;
/**
 * The document cache is bounded by bytes (JSON size plus a per-entry overhead for the key, the map
 * entry and the parsed object), not by a count that a 50k-tag store would outgrow: about 150k tag
 * and manifest documents fit, so random-tag HEADs keep hitting memory as the store grows.
 */
const CACHE_BYTES = 64 * 1024 * 1024;
const ENTRY_OVERHEAD = 256;
const LIST_CACHE_BYTES = 32 * 1024 * 1024;
const LIST_TTL_MS = 2000;
/** Values derived from many listings (a repo's catalog), bounded by their size like listings. */
const DERIVED_CACHE_BYTES = 16 * 1024 * 1024;

/** Index of name in sorted names, or -(insertion point) - 1 (the order the driver's list sorts in). */
function search(names: string[], name: string): number {
  let lo = 0;
  let hi = names.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = names[mid] as string;
    if (m === name) return mid;
    if (m < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}
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
/** Attempts of a compare-and-swap update before it gives up (each after a conflict with another writer). */
const MAX_CAS_ATTEMPTS = 32;

export class MetaStore {
  /** Bounded by count and by bytes (the documents' JSON size): large documents cannot crowd memory. */
  private readonly cache = new Lru<{ doc: unknown; size: number }>(1_000_000, CACHE_BYTES, (e) => e.size + ENTRY_OVERHEAD);

  /**
   * Folder listings (sorted names), so a paged walk of a 50k-tag image reads the folder once, not
   * once per page. Writes and deletes made here keep a cached listing exact; changes made by another
   * process (the offline gc) show after LIST_TTL_MS. Bounded by count and by the names' size.
   */
  private readonly lists = new Lru<{ names: string[]; at: number }>(1024, LIST_CACHE_BYTES, (e) => e.names.reduce((a, n) => a + n.length + 16, 64));

  /**
   * Values computed from many documents or listings (MetaStore.derived); every write through this
   * store makes them stale, another process's writes show after LIST_TTL_MS.
   */
  private readonly derivedCache = new Lru<{ value: unknown; size: number; writes: number; at: number }>(256, DERIVED_CACHE_BYTES, (e) => e.size);
  /** Bumped as every put and delete lands: a derived value computed before may lack that write. */
  private writes = 0;
  private readonly updates = new KeyedLock();

  constructor(
    private readonly driver: StorageDriver,
    private readonly newId: () => string,
    private readonly now: () => number = Date.now,
    /**
     * Other replicas write the same store: a remembered document or listing could be stale (a tag
     * pushed through another replica must show at once), so nothing is remembered.
     */
    readonly shared = false,
  ) {}

  /** `remember: false` for the larger, rarely read documents (kept lists) that would crowd the cache. */
  async get<T>(key: string, opts: DocOptions = {}): Promise<T | null> {
    if (this.shared) opts = { remember: false };
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
    if (this.shared) opts = { remember: false };
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
    this.listed(key, true);
  }

  /**
   * Keeps cached listings exact after a write (added: the file, and any folder it created, appear in
   * their parents' listings) or a delete (the name leaves its folder's listing; folders stay).
   */
  private listed(key: string, added: boolean): void {
    // Every write ends here, after it landed: a derived value computed before now may lack it.
    this.writes++;
    for (let at = key.lastIndexOf('/'), child = key; at > 0; child = child.slice(0, at), at = child.lastIndexOf('/')) {
      const folder = child.slice(0, at);
      const name = child.slice(at + 1);
      const hit = this.lists.get(folder);
      if (hit) {
        const i = search(hit.names, name);
        if (added && i < 0) hit.names.splice(-i - 1, 0, name);
        else if (!added && i >= 0) hit.names.splice(i, 1);
        // Set again so the cache's byte accounting follows the listing's size.
        if (added ? i < 0 : i >= 0) this.lists.set(folder, hit);
        else if (added) return; // the name was listed: every folder above already lists its ancestors
      }
      if (!added) return;
    }
  }

  /**
   * Compare-and-swap update of a document several writers change (an npm packument, a Maven
   * metadata file, a Cargo index file, a Debian suite): `change` gets the current document (null
   * when absent) and returns the next one, or undefined to leave it. On a shared store (replicas
   * over S3) the write is a conditional PUT on the version read, retried with the document read
   * again when another writer got there first; on a local store, one update per key at a time in
   * this process. Either way no writer's change is lost. `change` may run more than once: keep it pure.
   */
  async update<T>(key: string, change: (current: T | null) => T | undefined): Promise<T | null> {
    const ops = this.driver.conditional;
    if (!this.shared || !ops) {
      return this.updates.run(key, async () => {
        const current = await this.get<T>(key, { remember: false });
        const next = change(current);
        if (next === undefined) return current;
        await this.put(key, next);
        return next;
      });
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const had = await ops.readTagged(key, MAX_DOC_BYTES).catch((e: unknown) => {
        throw fromStorageError(e, key);
      });
      let current: T | null = null;
      try {
        current = had ? (JSON.parse(decoder.decode(had.bytes)) as T) : null;
      } catch {
        current = null;
      }
      const next = change(current);
      if (next === undefined) return current;
      const bytes = encoder.encode(JSON.stringify(next));
      const tag = had ? await ops.replaceIfTag(key, bytes, had.tag) : await ops.createIfAbsent(key, bytes);
      if (tag !== null) {
        this.listed(key, true);
        return next;
      }
      // Another writer's version landed first: back off a little (random, growing) and read it.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
    throw new RegistryError('unavailable', `document ${key} changed under ${MAX_CAS_ATTEMPTS} attempts to update it; try again`, { retryAfter: 1 });
  }

  async exists(key: string): Promise<boolean> {
    if (this.cache.get(key) !== undefined) return true;
    return (await this.driver.stat(key)) !== null;
  }

  async delete(key: string): Promise<boolean> {
    this.cache.delete(key);
    try {
      return await this.driver.delete(key);
    } finally {
      this.listed(key, false);
    }
  }

  /** Removes a folder and everything under it (upload sessions), forgetting cached documents. */
  async deleteTree(prefix: string): Promise<boolean> {
    this.cache.clear(prefix);
    this.lists.clear(prefix);
    try {
      return await this.driver.deleteTree(prefix);
    } finally {
      this.listed(prefix, false);
    }
  }

  /**
   * The names in a folder, sorted, without a copy: the remembered listing itself, which later writes
   * change in place. For hot read paths (a tags page at 50k tags would copy 50k names twice per
   * request). Never mutate it; after an await it may show later writes.
   */
  async listView(prefix: string): Promise<readonly string[]> {
    const hit = this.lists.get(prefix);
    if (hit && this.now() - hit.at < LIST_TTL_MS) return hit.names;
    const names = await this.driver.list(prefix);
    if (!this.shared) this.lists.set(prefix, { names, at: this.now() });
    return names;
  }

  /** The names in a folder, sorted; a copy the caller may keep. */
  async list(prefix: string): Promise<string[]> {
    return (await this.listView(prefix)).slice();
  }

  /**
   * A value computed from many reads (a repo's image catalog walks every image folder), remembered
   * until the next write through this store or LIST_TTL_MS, so each page of a paged walk does not
   * recompute it. Shared: callers must not mutate it. A write while it is computed keeps it from
   * being remembered. Nothing is remembered on a shared (multi-replica) store.
   */
  async derived<T>(key: string, compute: () => Promise<T>, sizeOf: (v: T) => number): Promise<T> {
    const hit = this.derivedCache.get(key);
    if (hit && hit.writes === this.writes && this.now() - hit.at < LIST_TTL_MS) return hit.value as T;
    const writes = this.writes;
    const at = this.now();
    const value = await compute();
    if (!this.shared && writes === this.writes) this.derivedCache.set(key, { value, size: sizeOf(value) + 64, writes, at });
    return value;
  }
}
