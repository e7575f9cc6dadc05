import { Lru } from '../util/lru.ts';
import { RegistryError } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { parseDigest } from '../storage/digest.ts';
import type { MetaStore } from '../storage/meta-store.ts';

/** A blob by digest and size, as documents name them. */
export interface BlobRef {
  digest: string;
  size: number;
}

/**
 * A document naming one JSON value kept in a blob: for values larger than a document may be (an npm
 * packument of thousands of versions, a PyPI project's file list) that several writers change.
 */
export interface BlobDoc {
  /** Bumped by every change (an ETag part; npm's `_rev`). */
  rev: number;
  /** When the document was first written (rev restarts if the value is deleted and made again). */
  created: number;
  blob: BlobRef;
}

const MAX_CHANGE_ATTEMPTS = 20;

/**
 * Reads and changes blob-held values by compare-and-swap on their documents: the new value's blob
 * is written first, then the document swapped only if its revision is still the one read, else the
 * change runs again on the newer value. So concurrent writers (of one process, or replicas over one
 * bucket) lose nothing. Parsed values are kept by blob digest; callers get copies to change.
 */
export class BlobDocs<T> {
  private readonly parsed: Lru<T>;

  constructor(
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly opts: { maxBytes: number; parse: (j: unknown) => T | null; what: string; now: () => number },
  ) {
    this.parsed = new Lru<T>(2000, 128 << 20, (v) => JSON.stringify(v).length);
  }

  async load(key: string): Promise<{ doc: BlobDoc; value: T } | null> {
    // Remembered: the document is a few bytes, and the MetaStore's memory is write-through on a local
    // store and off on a shared one, so it is never stale. A Debian suite reads 64 of these per request.
    const doc = await this.meta.get<BlobDoc>(key);
    if (!doc) return null;
    const hit = this.parsed.get(doc.blob.digest);
    if (hit) return { doc, value: hit };
    const dg = parseDigest(doc.blob.digest);
    const bytes = dg.ok ? await this.blobs.readAll(dg.digest, this.opts.maxBytes + 1024) : null;
    if (!bytes) throw new RegistryError('internal', `the ${this.opts.what} of ${key} is missing from the store`);
    const value = this.opts.parse(JSON.parse(new TextDecoder().decode(bytes)));
    if (value === null) throw new RegistryError('internal', `the stored ${this.opts.what} of ${key} is not one`);
    this.parsed.set(doc.blob.digest, value);
    return { doc, value };
  }

  /**
   * `fn` gets a copy of the value (null: none yet) and returns the next one (null: delete the
   * document). The caller holds the gc gate (shared) around it, with the blobs the value names.
   */
  async change(key: string, fn: (cur: T | null) => T | null): Promise<T | null> {
    for (let attempt = 0; attempt < MAX_CHANGE_ATTEMPTS; attempt++) {
      const cur = await this.load(key);
      const next = fn(cur ? structuredClone(cur.value) : null);
      if (next === null) {
        await this.meta.delete(key);
        return null;
      }
      const bytes = new TextEncoder().encode(JSON.stringify(next));
      if (bytes.byteLength > this.opts.maxBytes) throw new RegistryError('too_large', `the ${this.opts.what} would exceed ${this.opts.maxBytes} bytes`, { code: 'TOO_LARGE' });
      const blob = await this.blobs.putBytes(bytes);
      const want: BlobDoc = { rev: (cur?.doc.rev ?? 0) + 1, created: cur?.doc.created ?? this.opts.now(), blob: { digest: blob.digest.value, size: blob.size } };
      const got = await this.meta.update<BlobDoc>(key, (c) => ((c?.rev ?? 0) === (cur?.doc.rev ?? 0) && c?.created === cur?.doc.created ? want : undefined));
      if (got?.blob.digest === want.blob.digest && got.rev === want.rev) {
        this.parsed.set(blob.digest.value, next);
        return next;
      }
    }
    throw new RegistryError('unavailable', `${key} changed under ${MAX_CHANGE_ATTEMPTS} attempts to update it; try again`, { retryAfter: 1 });
  }
}
