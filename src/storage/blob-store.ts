import { Lru } from '../util/lru.ts';
import { RegistryError, fromStorageError } from '../errors.ts';
import { ChecksumHasher, Hasher } from './digest.ts';
import type { Checksum, Digest } from './digest.ts';
import type { FileInfo, ReadHandle, StorageDriver, WriteHandle } from './driver.ts';
import { layout } from './layout.ts';

export interface WriteOptions {
  /** When given, the bytes must hash to it or nothing is stored. */
  expectedDigest?: Digest;
  /** When given, the bytes must be exactly this long. */
  expectedSize?: number;
  /** Hard cap, enforced while streaming (never by buffering). */
  maxBytes?: number;
  /** A second checksum (another algorithm) the bytes must match too. */
  checksum?: Checksum;
}

export interface StoredBlob {
  digest: Digest;
  size: number;
}

/**
 * One write into the content-addressed store. Bytes go to a temp key while they are hashed and
 * counted; verify() checks size and digest, finish() also fsyncs and renames into place. Any failure removes the
 * temp file, so a blob key only ever holds complete, verified bytes.
 */
export class BlobWriter {
  private readonly hasher: Hasher;
  private written = 0;
  private done = false;
  private verified: StoredBlob | undefined;
  private second: ChecksumHasher | undefined;

  constructor(
    private readonly handle: WriteHandle,
    private opts: WriteOptions,
    private readonly used: (digest: string) => void = () => {},
  ) {
    this.hasher = new Hasher(opts.expectedDigest?.algorithm ?? 'sha256');
    if (opts.checksum) this.second = new ChecksumHasher(opts.checksum);
  }

  /** Sets a second checksum to verify, before any byte is written. */
  expectChecksum(c: Checksum): void {
    if (this.written > 0) throw new Error('a checksum must be set before the first byte');
    this.second = new ChecksumHasher(c);
  }

  get tempKey(): string {
    return this.handle.tempKey;
  }

  /** Sets the size the content must have, once it is known (after the writer was opened). */
  expectSize(size: number | undefined): void {
    this.opts = { ...this.opts, ...(size !== undefined ? { expectedSize: size } : {}) };
  }

  /** Sets the digest the content must hash to, when it becomes known after the writer was opened. */
  expectDigest(d: Digest): void {
    if (d.algorithm === this.hasher.algorithm) this.opts = { ...this.opts, expectedDigest: d };
  }

  get bytesWritten(): number {
    return this.written;
  }

  async write(chunk: Uint8Array): Promise<void> {
    return this.writeMany([chunk]);
  }

  /** Several chunks at once: checked, hashed, and written without copying them into one buffer. */
  async writeMany(chunks: Uint8Array[]): Promise<void> {
    let next = this.written;
    for (const c of chunks) next += c.byteLength;
    const { expectedSize, maxBytes } = this.opts;
    if (expectedSize !== undefined && next > expectedSize) {
      throw new RegistryError('invalid', `more bytes than the expected ${expectedSize}`, { code: 'SIZE_INVALID' });
    }
    if (maxBytes !== undefined && next > maxBytes) {
      throw new RegistryError('too_large', `content exceeds the limit of ${maxBytes} bytes`, { code: 'SIZE_INVALID' });
    }
    for (const c of chunks) {
      this.hasher.update(c);
      this.second?.update(c);
    }
    try {
      if (chunks.length === 1 && chunks[0]) await this.handle.write(chunks[0]);
      else if (this.handle.writev) await this.handle.writev(chunks);
      else for (const c of chunks) await this.handle.write(c);
    } catch (e) {
      throw fromStorageError(e, 'a blob');
    }
    this.written = next;
  }

  /**
   * Checks size and digest of everything written. Separate from commit() so readers of a fill can be
   * released as soon as the bytes are known good, without waiting for fsync.
   */
  verify(): StoredBlob {
    if (this.verified) return this.verified;
    const { expectedSize, expectedDigest } = this.opts;
    if (expectedSize !== undefined && this.written !== expectedSize) {
      throw new RegistryError('invalid', `got ${this.written} bytes, expected ${expectedSize}`, { code: 'SIZE_INVALID' });
    }
    const digest = this.hasher.digest();
    if (expectedDigest && digest.value !== expectedDigest.value) {
      throw new RegistryError('invalid', `content digest ${digest.value} does not match ${expectedDigest.value}`, {
        code: 'DIGEST_INVALID',
      });
    }
    const other = this.second?.mismatch();
    if (other && this.second) {
      const want = this.second.want;
      throw new RegistryError('invalid', `content ${want.algorithm} ${other} does not match the expected ${want.hex}`, { code: 'DIGEST_INVALID' });
    }
    this.second = undefined;
    this.verified = { digest, size: this.written };
    return this.verified;
  }

  /** verify(), then fsync and rename into place; any failure removes the temp file. */
  async finish(): Promise<StoredBlob> {
    if (this.done) throw new Error('blob writer already finished');
    this.done = true;
    try {
      const stored = this.verify();
      try {
        await this.handle.commit(layout.blob(stored.digest));
      } catch (e) {
        throw fromStorageError(e, 'a blob');
      }
      this.used(stored.digest.value);
      return stored;
    } catch (e) {
      await this.handle.abort();
      throw e;
    }
  }

  async abort(): Promise<void> {
    this.done = true;
    await this.handle.abort();
  }
}

/** Told of every blob that exists and was used: the reference barrier (src/storage/gc-gate.ts). */
export interface UseObserver {
  note(digest: string): void;
}

/**
 * The one place that knows content addressing. Shared by every repo and format. Every stat, open,
 * read or write of an existing blob is reported to the observer: that is how a commit referencing
 * a blob (which always reaches it through here) keeps a gc or eviction run from deleting it.
 */
export class BlobStore {
  constructor(
    private readonly driver: StorageDriver,
    private readonly newId: () => string,
    private readonly observer: UseObserver = { note: () => {} },
    /** Small whole blobs (manifests) by digest: immutable, so a cache can never be stale. */
    private readonly small = new Lru<Uint8Array>(100_000, 32 * 1024 * 1024, (b) => b.byteLength + 128),
  ) {}

  /** The same store for the storage jobs: their own reads must not count as use. */
  unobserved(): BlobStore {
    return new BlobStore(this.driver, this.newId, undefined, this.small);
  }

  /** Reports a blob made or used outside these methods (an upload moved into place). */
  noteUsed(d: Digest): void {
    this.observer.note(d.value);
  }

  async stat(d: Digest): Promise<FileInfo | null> {
    const st = await this.driver.stat(layout.blob(d));
    if (st) this.observer.note(d.value);
    return st;
  }

  async open(d: Digest): Promise<ReadHandle | null> {
    const h = await this.driver.open(layout.blob(d));
    if (h) this.observer.note(d.value);
    return h;
  }

  /** A whole small blob; callers must not mutate the bytes (they are shared). */
  async readAll(d: Digest, maxBytes: number): Promise<Uint8Array | null> {
    const hit = this.small.get(d.value);
    if (hit && hit.byteLength <= maxBytes) {
      this.observer.note(d.value);
      return hit;
    }
    const bytes = await this.driver.readAll(layout.blob(d), maxBytes);
    if (bytes) {
      this.small.set(d.value, bytes);
      this.observer.note(d.value);
    }
    return bytes;
  }

  /**
   * Seconds a presigned URL of a stored blob stays valid when cached blob GETs are redirected to the
   * bucket (config storage.redirectBlobs); undefined: blobs are served by this process.
   */
  redirectSeconds: number | undefined;

  /** Where a client may fetch a stored blob itself, when redirects are on and the driver can presign. */
  async redirectUrl(d: Digest): Promise<string | undefined> {
    if (this.redirectSeconds === undefined || !this.driver.presign) return undefined;
    const url = await this.driver.presign(layout.blob(d), this.redirectSeconds);
    this.observer.note(d.value);
    return url;
  }

  /** Real path for runtimes that can send a file natively; undefined for drivers without one. */
  localPath(d: Digest): string | undefined {
    return this.driver.localPath?.(layout.blob(d));
  }

  /** Opens the temp file of an in-progress write, for readers that tail a fill. */
  openTemp(tempKey: string): Promise<ReadHandle | null> {
    return this.driver.open(tempKey);
  }

  async startWrite(opts: WriteOptions = {}): Promise<BlobWriter> {
    try {
      const target = opts.expectedDigest ? layout.blob(opts.expectedDigest) : undefined;
      return new BlobWriter(await this.driver.create(layout.temp(this.newId()), target), opts, (d) => this.observer.note(d));
    } catch (e) {
      throw fromStorageError(e, 'a blob');
    }
  }

  /** Stores a whole stream. Re-putting an existing digest rewrites identical bytes (idempotent). */
  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: WriteOptions = {}): Promise<StoredBlob> {
    const w = await this.startWrite(opts);
    try {
      for await (const chunk of source) await w.write(chunk);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.finish();
  }

  async putBytes(data: Uint8Array, opts: WriteOptions = {}): Promise<StoredBlob> {
    return this.put([data], opts);
  }

  delete(d: Digest): Promise<boolean> {
    this.small.delete(d.value);
    return this.driver.delete(layout.blob(d));
  }
}

/** Everything a handle holds, in 1 MiB steps, to `fn`; the handle is closed after. */
export async function eachChunk(fh: ReadHandle, fn: (chunk: Uint8Array) => void): Promise<void> {
  try {
    for (let pos = 0; ; ) {
      const chunk = await fh.read(pos, 1 << 20);
      if (chunk.byteLength === 0) break;
      fn(chunk);
      pos += chunk.byteLength;
    }
  } finally {
    await fh.close();
  }
}

/** The digest of everything a handle holds (resumed uploads, fsck). */
export async function hashHandle(fh: ReadHandle, algorithm: Digest['algorithm']): Promise<Digest> {
  const h = new Hasher(algorithm);
  await eachChunk(fh, (c) => h.update(c));
  return h.digest();
}

/** Writes in flight on other replicas are younger than this; anything older was left by a crash. */
const SHARED_TEMP_AGE_MS = 6 * 3_600_000;

/** A temp file on a local store not written for this long belongs to no write in flight (every body and fill times out idle well before). */
const LOCAL_STALE_TEMP_MS = 2 * 3_600_000;

/**
 * Removes temp files left by a previous process (a crash mid-fill or mid-write). On a shared store
 * the temp keys of other replicas' writes in flight live beside ours: only old ones go. On a local
 * store the server removes them all, but `staleOnly` (the CLI, which may run beside the server)
 * removes only those not written to for hours: an import once failed a running server's PUT.
 */
export async function cleanTemp(driver: StorageDriver, now = Date.now(), staleOnly = false): Promise<number> {
  if (driver.shared) return driver.sweep ? driver.sweep(layout.tempDir(), SHARED_TEMP_AGE_MS, now) : 0;
  let n = 0;
  for (const name of await driver.list(layout.tempDir())) {
    const key = `${layout.tempDir()}/${name}`;
    if (staleOnly) {
      const info = await driver.stat(key);
      if (!info || now - info.mtimeMs < LOCAL_STALE_TEMP_MS) continue;
    }
    if (await driver.delete(key)) n++;
  }
  return n;
}
