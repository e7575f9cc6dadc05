import { RegistryError } from '../errors.ts';
import type { BlobStore, BlobWriter, StoredBlob } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import type { ReadHandle } from '../storage/driver.ts';

export interface FillSource {
  body: AsyncIterable<Uint8Array>;
  /** From the upstream Content-Length; undefined for chunked answers. */
  size: number | undefined;
}

export interface FillHooks {
  started?(): void;
  ended?(ok: boolean, bytes: number, digest: string, error?: unknown): void;
  joined?(): void;
}

const READ_CHUNK = 256 * 1024;

/**
 * One upstream download written into the blob store. It runs on its own: no client signal reaches
 * it, so a client that disconnects never aborts what other clients (and the cache) are waiting for.
 * Readers tail the temp file as it grows, each at its own pace, so a slow client never slows the
 * fill and nothing is buffered in memory.
 */
export class Fill {
  /** 'verified': every byte is in and checked; readers may finish while the commit (fsync) runs. */
  state: 'starting' | 'running' | 'verified' | 'done' | 'failed' = 'starting';
  size: number | undefined;
  written = 0;
  error: unknown;
  readonly ready: Promise<void>;
  readonly done: Promise<StoredBlob>;
  private writer: BlobWriter | undefined;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly blobs: BlobStore,
    readonly digest: Digest,
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
        this.state = 'done';
        hooks.ended?.(true, this.written, digest.value);
        this.wake();
        return stored;
      },
      (e: unknown) => {
        this.state = 'failed';
        this.error = e;
        failReady(e);
        hooks.ended?.(false, this.written, digest.value, e);
        this.wake();
        throw e;
      },
    );
    this.done.catch(() => {});
  }

  private async run(start: () => Promise<FillSource>, markReady: () => void): Promise<StoredBlob> {
    const src = await start();
    this.size = src.size;
    const w = await this.blobs.startWrite({ expectedDigest: this.digest, expectedSize: src.size });
    this.writer = w;
    this.state = 'running';
    markReady();
    try {
      for await (const chunk of src.body) {
        await w.write(chunk);
        this.written = w.bytesWritten;
        this.wake();
      }
      w.verify();
    } catch (e) {
      await w.abort();
      throw e;
    }
    this.state = 'verified';
    this.wake();
    return w.finish();
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
  reader(start = 0, end?: number): ReadableStream<Uint8Array> {
    let pos = start;
    let handle: ReadHandle | null = null;
    const openHandle = async (): Promise<ReadHandle> => {
      if (handle) return handle;
      const h = this.state === 'done' ? null : await this.blobs.openTemp(this.tempKey());
      handle = h ?? (await this.blobs.open(this.digest));
      if (!handle) throw new RegistryError('internal', 'fill content vanished');
      return handle;
    };
    const closeHandle = async (): Promise<void> => {
      const h = handle;
      handle = null;
      await h?.close().catch(() => {});
    };
    const step = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
      for (;;) {
        const limit = end ?? this.size;
        if (limit !== undefined && pos >= limit) {
          await closeHandle();
          controller.close();
          return;
        }
        if (this.state === 'failed') throw this.error;
        const complete = this.state === 'done' || this.state === 'verified';
        const avail = complete ? this.written : this.written - 1;
        if (complete && pos >= avail) {
          await closeHandle();
          controller.close();
          return;
        }
        if (pos < avail) {
          const stop = Math.min(avail, limit ?? avail, pos + READ_CHUNK);
          const chunk = await (await openHandle()).read(pos, stop - pos);
          if (chunk.byteLength === 0) throw new RegistryError('internal', 'short read while tailing a fill');
          pos += chunk.byteLength;
          controller.enqueue(chunk);
          return;
        }
        await this.progress();
      }
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            await step(controller);
          } catch (e) {
            await closeHandle();
            throw e;
          }
        },
        cancel: closeHandle,
      },
      { highWaterMark: 0 },
    );
  }

  private tempKey(): string {
    if (!this.writer) throw new RegistryError('internal', 'fill has no writer yet');
    return this.writer.tempKey;
  }
}

/** Coalesces concurrent misses: one Fill per digest, however many clients ask at once. */
export class FillManager {
  private readonly inflight = new Map<string, Fill>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly hooks: FillHooks = {},
  ) {}

  join(digest: Digest, start: () => Promise<FillSource>): { fill: Fill; coalesced: boolean } {
    const existing = this.inflight.get(digest.value);
    if (existing) {
      this.hooks.joined?.();
      return { fill: existing, coalesced: true };
    }
    const fill = new Fill(this.blobs, digest, start, this.hooks);
    this.inflight.set(digest.value, fill);
    const forget = (): void => {
      if (this.inflight.get(digest.value) === fill) this.inflight.delete(digest.value);
    };
    fill.done.then(forget, forget);
    return { fill, coalesced: false };
  }

  get size(): number {
    return this.inflight.size;
  }
}
