import { Lru } from '../../util/lru.ts';
import { eachChunk } from '../../storage/blob-store.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { ChecksumHasher } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { SumAlg } from './coords.ts';

export type Sums = Record<SumAlg, string>;

/** md5, sha1, sha256 and sha512 over the same bytes (what Maven's checksum siblings name). */
export class MultiHash {
  private readonly hs = { md5: new ChecksumHasher({ algorithm: 'md5', hex: '' }), sha1: new ChecksumHasher({ algorithm: 'sha1', hex: '' }), sha256: new ChecksumHasher({ algorithm: 'sha256', hex: '' }), sha512: new ChecksumHasher({ algorithm: 'sha512', hex: '' }) };
  update(c: Uint8Array): void {
    for (const h of Object.values(this.hs)) h.update(c);
  }
  sums(): Sums {
    return { md5: this.hs.md5.hex(), sha1: this.hs.sha1.hex(), sha256: this.hs.sha256.hex(), sha512: this.hs.sha512.hex() };
  }
}

export function sumsOfBytes(b: Uint8Array): Sums {
  const h = new MultiHash();
  h.update(b);
  return h.sums();
}

/** Checksums of stored blobs, by digest: content never changes, so an entry is never stale. */
const known = new Lru<Sums>(50_000, 64 << 20, () => 400);

/** Every checksum of a stored blob, read once (1 MiB steps) and remembered. */
export async function sumsOfBlob(blobs: BlobStore, d: Digest): Promise<Sums | null> {
  const hit = known.get(d.value);
  if (hit) return hit;
  const fh = await blobs.open(d);
  if (!fh) return null;
  const h = new MultiHash();
  await eachChunk(fh, (c) => h.update(c));
  const s = h.sums();
  known.set(d.value, s);
  return s;
}

/** Checksums of metadata documents by their ETag (a digest of the bytes): computed once per content, not per request. */
const documents = new Lru<Sums>(20_000, 16 << 20, () => 400);

export function sumsOfDocument(etag: string, b: Uint8Array): Sums {
  const hit = documents.get(etag);
  if (hit) return hit;
  const s = sumsOfBytes(b);
  documents.set(etag, s);
  return s;
}
