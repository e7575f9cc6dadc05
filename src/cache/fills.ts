import { RegistryError } from '../errors.ts';
import type { BlobStore, BlobWriter, StoredBlob } from '../storage/blob-store.ts';
import type { Checksum, Digest } from '../storage/digest.ts';
import type { ReadHandle } from '../storage/driver.ts';
import { concat } from '../util/bytes.ts';
import type { ChunkSource } from '../http/chunk-source.ts';

export interface FillSource {
  body: AsyncIterable<Uint8Array>;
  /** The size the upstream (Content-Length) or the manifest declared; undefined when neither did. */
  size: number | undefined;
  /** Never write more than this, whatever the source claims (a chunked answer has no length). */
  maxBytes?: number;
  /** A digest the source announced (an upstream checksum header): verified before commit too. */
  digest?: Digest;
  /** A checksum of another algorithm the format's index names (npm's sha512 integrity): verified too. */
  checksum?: Checksum;
  /** Already in the store (another replica fetched it while this one waited): nothing to write. */
  stored?: StoredBlob;
  /** Runs once the fill has committed or failed (a replica lease is given back). */
  release?: () => Promise<void>;
}

export interface FillHooks {
  started?(): void;
  /** `key`: the fill's cache key (a digest when the format knows it up front, else e.g. a path). */
  ended?(ok: boolean, bytes: number, key: string, error?: unknown): void;
  joined?(): void;
}

const READ_CHUNK = 256 * 1024;
/** Upstream chunks (16-64 KiB) are written in batches: far fewer syscalls on the cold path. */
const WRITE_BATCH = 1024 * 1024;
/** Recent bytes kept in memory per fill, so readers at the head never wait on a disk read. */
const MEM_CAP = 2 * 1024 * 1024;

/**
 * One upstream download written into the blob store. It runs on its own: no client signal reaches
 * it, so a client that disconnects never aborts what other clients (and the cache) are waiting for.
 * Readers at the head take the newest bytes straight from memory (a bounded window of recent
 * chunks); readers that fall behind the window read the temp file, each at its own pace, so a slow
 * client never slows the fill and memory stays at a few MiB per fill whatever the blob size.
 */
export class Fill {
  /** 'verified': every byte is in and checked; readers may finish while the commit (fsync) runs. */
  state: 'starting' | 'running' | 'verified' | 'done' | 'failed' = 'starting';
  size: number | undefined;
  /** Bytes received (and hashed). */
  written = 0;
  /** When the last byte arrived (or the fill started): a fill that stops moving takes no new joiners. */
  lastProgressAt = Date.now();
  /** Bytes on disk in the temp file; everything before the memory window is below this. */
  private flushed = 0;
  private mem: Array<{ start: number; bytes: Uint8Array }> = [];
  error: unknown;
  readonly ready: Promise<void>;
  readonly done: Promise<StoredBlob>;
  private writer: BlobWriter | undefined;
  private waiters: Array<() => void> = [];

  /** The digest the bytes hashed to, once committed (the expected one, or the one computed). */
  private committed: Digest | undefined;
  /** Another replica stored the blob; this fill only serves it (no bytes were fetched). */
  private fromPeer = false;

  /**
   * `expected`: the digest the bytes must have (verified before commit), when the format knows it
   * up front (Docker blobs); without it (a file by path) the digest is computed while streaming and
   * the blob is stored under it. Either way nothing enters the store before the fill completes.
   */
  constructor(
    private readonly blobs: BlobStore,
    readonly key: string,
    readonly expected: Digest | undefined,
    start: () => Promise<FillSource>,
    hooks: FillHooks,
  ) {
    let markReady!: () => void;
    let failReady!: (e: unknown) => void;
    this.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    this.ready.catch(() => {});
    hooks.started?.();
    this.done = this.run(start, markReady).then(
      (stored) => {
        this.committed = stored.digest;
        this.state = 'done';
        this.mem = [];
        hooks.ended?.(true, this.fromPeer ? 0 : this.written, key);
        this.wake();
        return stored;
      },
      (e: unknown) => {
        this.state = 'failed';
        this.mem = [];
        this.error = e;
        failReady(e);
        hooks.ended?.(false, this.written, key, e);
        this.wake();
        throw e;
      },
    );
    this.done.catch(() => {});
  }

  private async run(start: () => Promise<FillSource>, markReady: () => void): Promise<StoredBlob> {
    // The temp file is opened while the upstream answers, not after: one less step per cold blob.
    const opening = this.blobs.startWrite(this.expected ? { expectedDigest: this.expected } : {});
    let src: FillSource;
    try {
      src = await start();
    } catch (e) {
      await opening.then((w) => w.abort(), () => {});
      throw e;
    }
    try {
      return await this.write(src, opening, markReady);
    } finally {
      await src.release?.().catch(() => {});
    }
  }

  private async write(src: FillSource, opening: Promise<BlobWriter>, markReady: () => void): Promise<StoredBlob> {
    if (src.stored) {
      await opening.then((w) => w.abort(), () => {});
      this.fromPeer = true;
      this.size = this.written = this.flushed = src.stored.size;
      this.state = 'verified';
      markReady();
      this.wake();
      return src.stored;
    }
    this.size = src.size;
    let w: BlobWriter;
    try {
      w = await opening;
    } catch (e) {
      // No temp file (disk full?): release the upstream connection before failing the fill.
      await src.body[Symbol.asyncIterator]().return?.();
      throw e;
    }
    w.expectSize(src.size);
    if (src.digest && !this.expected) w.expectDigest(src.digest);
    if (src.checksum) w.expectChecksum(src.checksum);
    this.writer = w;
    this.state = 'running';
    markReady();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    // One batch may be on its way to disk while the next one fills: the upstream keeps flowing
    // during a write instead of waiting for it (memory: two batches plus the window).
    let writing: Promise<void> = Promise.resolve();
    const flush = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      // Written as the chunks came (a gathered write): no copy into one buffer.
      const batch = pending;
      pending = [];
      pendingBytes = 0;
      await writing;
      writing = w.writeMany(batch).then(() => {
        this.flushed = w.bytesWritten;
        this.trim();
      });
      writing.catch(() => {});
    };
    try {
      for await (const chunk of src.body) {
        if (chunk.byteLength === 0) continue;
        if (this.size !== undefined && this.written + chunk.byteLength > this.size) {
          throw new RegistryError('upstream', `upstream sent more than the announced ${this.size} bytes`);
        }
        if (src.maxBytes !== undefined && this.written + chunk.byteLength > src.maxBytes) {
          throw new RegistryError('upstream', `upstream sent more than the limit of ${src.maxBytes} bytes for one blob`);
        }
        this.mem.push({ start: this.written, bytes: chunk });
        this.written += chunk.byteLength;
        this.lastProgressAt = Date.now();
        pending.push(chunk);
        pendingBytes += chunk.byteLength;
        this.wake();
        if (pendingBytes >= WRITE_BATCH) await flush();
      }
      await flush();
      await writing;
      w.verify();
    } catch (e) {
      await writing.catch(() => {});
      await w.abort();
      throw e;
    }
    this.state = 'verified';
    this.wake();
    return w.finish();
  }

  /** Drops the oldest in-memory chunks that are on disk, once the window exceeds its cap. */
  private trim(): void {
    while (this.mem.length > 0) {
      const first = this.mem[0];
      if (!first || first.start + first.bytes.byteLength > this.flushed || this.written - first.start <= MEM_CAP) return;
      this.mem.shift();
    }
  }

  /**
   * Up to `stop` from the memory window; null when pos is before the window. Consecutive chunks are
   * joined (a reader that fell a little behind gets one larger write instead of many small ones).
   */
  private fromMemory(pos: number, stop: number): Uint8Array | null {
    const parts: Uint8Array[] = [];
    let at = pos;
    for (const c of this.mem) {
      const end = c.start + c.bytes.byteLength;
      if (at >= end) continue;
      if (at < c.start) break;
      parts.push(c.bytes.subarray(at - c.start, Math.min(end, stop) - c.start));
      at = Math.min(end, stop);
      if (at >= stop) break;
    }
    if (parts.length <= 1) return parts[0] ?? null;
    return concat(parts, at - pos);
  }

  private wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private progress(): Promise<void> {
    return new Promise((res) => this.waiters.push(res));
  }

  /**
   * Bytes [start, end) of the blob as they arrive. The last byte is held back until the digest is
   * verified, so a client can never see a complete body for content that fails verification.
   */
  cursor(start = 0, end?: number): ChunkSource {
    let pos = start;
    let handle: ReadHandle | null = null;
    const openHandle = async (): Promise<ReadHandle> => {
      if (handle) return handle;
      const h = this.state === 'done' || !this.writer ? null : await this.blobs.openTemp(this.writer.tempKey);
      const stored = this.committed ?? this.expected;
      handle = h ?? (stored ? await this.blobs.open(stored) : null);
      if (!handle) throw new RegistryError('internal', 'fill content vanished');
      return handle;
    };
    const close = async (): Promise<void> => {
      const h = handle;
      handle = null;
      await h?.close().catch(() => {});
    };
    const step = async (): Promise<Uint8Array | null> => {
      for (;;) {
        const limit = end ?? this.size;
        if (limit !== undefined && pos >= limit) return null;
        if (this.state === 'failed') throw this.error;
        const complete = this.state === 'done' || this.state === 'verified';
        const avail = complete ? this.written : this.written - 1;
        if (complete && pos >= avail) return null;
        if (pos < avail) {
          const stop = Math.min(avail, limit ?? avail, pos + READ_CHUNK);
          const mem = this.state === 'done' ? null : this.fromMemory(pos, stop);
          if (mem) {
            pos += mem.byteLength;
            return mem;
          }
          // Behind the memory window: those bytes are on disk (the window only drops flushed chunks).
          const chunk = await (await openHandle()).read(pos, Math.min(stop, this.state === 'done' ? stop : this.flushed) - pos);
          if (chunk.byteLength === 0) throw new RegistryError('internal', 'short read while tailing a fill');
          pos += chunk.byteLength;
          return chunk;
        }
        await this.progress();
      }
    };
    return {
      next: async () => {
        try {
          const chunk = await step();
          if (chunk === null) await close();
          return chunk;
        } catch (e) {
          await close();
          throw e;
        }
      },
      close,
    };
  }
}

