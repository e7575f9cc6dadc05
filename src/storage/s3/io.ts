import { readerOf } from '../../util/streams.ts';
import type { BodyReader } from '../../util/streams.ts';
import { bodyOf } from '../../util/native-body.ts';
import { concat } from '../../util/bytes.ts';
import type { ReadHandle } from '../driver.ts';
import type { S3Client } from './client.ts';

/** S3's smallest part (all but the last); also the most a single PUT holds in memory here. */
export const MIN_PART = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

/**
 * Streams bytes into one object: one PUT when everything fits in the first part, else a multipart
 * upload whose parts go up as they fill. One part is buffered while the previous one uploads, so
 * memory is two parts per writer whatever the object's size, and a slow store slows the writer
 * (backpressure) instead of growing a queue.
 */
export class PartUploader {
  private buf: Uint8Array[] = [];
  private bufBytes = 0;
  private uploadId: string | undefined;
  private readonly etags: string[] = [];
  private inflight: Promise<void> = Promise.resolve();
  private failed: unknown;
  total = 0;

  constructor(
    private readonly s3: S3Client,
    readonly key: string,
    private readonly partSize: number,
  ) {}

  async write(chunks: Uint8Array[]): Promise<void> {
    if (this.failed) throw this.failed;
    for (const c of chunks) {
      if (c.byteLength === 0) continue;
      this.buf.push(c);
      this.bufBytes += c.byteLength;
      this.total += c.byteLength;
    }
    while (this.bufBytes >= this.partSize) await this.flushPart();
  }

  private async flushPart(): Promise<void> {
    const all = concat(this.buf, this.bufBytes);
    const part = all.subarray(0, Math.min(this.partSize, all.byteLength));
    const rest = all.subarray(part.byteLength);
    this.buf = rest.byteLength > 0 ? [rest] : [];
    this.bufBytes = rest.byteLength;
    this.uploadId ??= await this.s3.createMultipart(this.key);
    const id = this.uploadId;
    const n = this.etags.length + 1;
    if (n > MAX_PARTS) throw new Error(`object over ${MAX_PARTS} parts of ${this.partSize} bytes`);
    this.etags.push('');
    // One part in flight: wait for the previous one before starting this one.
    await this.inflight;
    if (this.failed) throw this.failed;
    this.inflight = this.s3.uploadPart(this.key, id, n, part).then(
      (etag) => {
        this.etags[n - 1] = etag;
      },
      (e: unknown) => {
        this.failed = e;
      },
    );
  }

  /** Makes the object visible under `key`: the single PUT, or the last part and the completion. */
  async finish(): Promise<void> {
    if (this.uploadId === undefined) {
      const res = await this.s3.put(this.key, concat(this.buf, this.bufBytes));
      await res.body?.cancel();
      this.buf = [];
      return;
    }
    // What is left is under one part (write() flushed every full one): it goes up as the last part.
    if (this.bufBytes > 0) await this.flushPart();
    await this.inflight;
    if (this.failed) throw this.failed;
    await this.s3.completeMultipart(this.key, this.uploadId, this.etags);
    this.uploadId = undefined;
  }

  async abort(): Promise<void> {
    this.buf = [];
    await this.inflight;
    const id = this.uploadId;
    this.uploadId = undefined;
    if (id !== undefined) await this.s3.abortMultipart(this.key, id).catch(() => {});
  }
}

/**
 * Random access to one object by ranged GETs. Sequential reads share one open response, so
 * streaming a blob costs one request, not one per read. Not pinned to an ETag: the keys read this
 * way are immutable (blobs by digest, appended segments), and a blob written twice by two replicas
 * has the same bytes under a different ETag, which must not fail a download in progress.
 */
export class S3ReadHandle implements ReadHandle {
  private reader: BodyReader | undefined;
  private pos = -1;
  private spare: Uint8Array | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly key: string,
    readonly size: number,
  ) {}

  async read(position: number, length: number): Promise<Uint8Array> {
    const want = Math.min(length, this.size - position);
    if (want <= 0) return new Uint8Array(0);
    if (!this.reader || this.pos !== position) {
      await this.drop();
      const res = await this.s3.get(this.key, position);
      const body = res ? bodyOf(res) : null;
      if (!body) throw Object.assign(new Error(`${this.key} vanished while being read`), { code: 'ENOENT' });
      // The runtime's own body when its fetch has one (Node: the socket's chunks, no Web stream).
      this.reader = readerOf(body);
      this.pos = position;
    }
    const parts: Uint8Array[] = [];
    let got = 0;
    while (got < want) {
      let c = this.spare;
      this.spare = undefined;
      if (!c) {
        const r = await this.reader.read();
        if (r.done) break;
        c = r.value;
      }
      if (got + c.byteLength > want) {
        this.spare = c.subarray(want - got);
        c = c.subarray(0, want - got);
      }
      parts.push(c);
      got += c.byteLength;
    }
    this.pos += got;
    return parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts, got);
  }

  private async drop(): Promise<void> {
    const r = this.reader;
    this.reader = undefined;
    this.spare = undefined;
    await r?.cancel().catch(() => {});
  }

  close(): Promise<void> {
    return this.drop();
  }
}

/** One reader over consecutive pieces (an upload kept as appended segments). */
export class JoinedReadHandle implements ReadHandle {
  constructor(private readonly pieces: Array<{ offset: number; size: number; handle: ReadHandle }>) {}

  async read(position: number, length: number): Promise<Uint8Array> {
    const p = this.pieces.find((x) => position >= x.offset && position < x.offset + x.size);
    if (!p) return new Uint8Array(0);
    return p.handle.read(position - p.offset, Math.min(length, p.offset + p.size - position));
  }

  async close(): Promise<void> {
    await Promise.all(this.pieces.map((p) => p.handle.close()));
  }
}
