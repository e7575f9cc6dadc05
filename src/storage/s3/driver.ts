import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Lru } from '../../util/lru.ts';
import { assertSafeKey } from '../driver.ts';
import type { AppendHandle, ConditionalOps, FileInfo, ReadHandle, StorageDriver, WriteHandle } from '../driver.ts';
import { FsReadHandle, writevAll } from '../fs.ts';
import { S3Client } from './client.ts';
import type { S3Options } from './client.ts';
import { JoinedReadHandle, MIN_PART, PartUploader, S3ReadHandle } from './io.ts';
import { Segments } from './segments.ts';

export interface S3DriverOptions extends S3Options {
  /** Local folder for the bytes of writes in flight, which readers tailing a fill read back. */
  spoolDir: string;
  partSize?: number;
}

/** The largest object one CopyObject may copy; larger ones are copied part by part. */
const COPY_MAX = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;

/**
 * S3-compatible storage (AWS S3, Ceph RGW, MinIO). Every key is an object; folders are prefixes.
 * A write streams into a multipart upload (to its likely final key when the caller names one, so a
 * verified blob needs no copy) and is spooled to a local file at the same time, because readers
 * tailing a fill must read bytes that S3 shows nobody before the upload completes. Appendable keys
 * (upload sessions, which grow across requests and replicas) are kept as one object per append.
 */
export class S3Driver implements StorageDriver {
  /** Several replicas share this store: in-memory caches of mutable documents must not be trusted. */
  readonly shared = true;
  readonly s3: S3Client;
  readonly conditional: ConditionalOps;
  private readonly partSize: number;
  private readonly segments: Segments;
  /** Writes in flight in this process: temp key → spool file. */
  private readonly spools = new Map<string, string>();
  /**
   * Keys this process appended to (upload sessions): kept as segments, never as one object, so their
   * stat and open skip the HEAD that would only say 404. Bounded; a key pushed out costs one HEAD.
   */
  private readonly appended = new Lru<true>(10_000);

  /** The key as one object, unless it is known to be kept as segments. */
  private head(key: string): Promise<{ size: number; mtimeMs: number; etag: string } | null> {
    return this.appended.get(key) ? Promise.resolve(null) : this.s3.head(key);
  }

  /** After a HEAD said 404: whether the key is kept as segments (known here, or its first segment exists). */
  private async segmented(key: string): Promise<boolean> {
    return this.appended.get(key) === true || (await this.segments.present(key));
  }

  constructor(private readonly opts: S3DriverOptions) {
    this.s3 = new S3Client(opts);
    this.partSize = Math.max(MIN_PART, opts.partSize ?? 8 * 1024 * 1024);
    this.segments = new Segments(this.s3, this.partSize);
    this.conditional = conditionalOps(this.s3);
  }

  async stat(key: string): Promise<FileInfo | null> {
    assertSafeKey(key);
    const h = await this.head(key);
    if (h) return { size: h.size, mtimeMs: h.mtimeMs };
    return (await this.segmented(key)) ? this.segments.stat(key) : null;
  }

  async open(key: string): Promise<ReadHandle | null> {
    assertSafeKey(key);
    const spool = this.spools.get(key);
    if (spool) return new FsReadHandle(await open(spool, 'r'));
    const h = await this.head(key);
    if (h) return new S3ReadHandle(this.s3, key, h.size);
    if (!(await this.segmented(key))) return null;
    const segs = await this.segments.of(key);
    if (segs.length === 0) return null;
    return new JoinedReadHandle(segs.map((s) => ({ offset: s.offset, size: s.size, handle: new S3ReadHandle(this.s3, s.name, s.size) })));
  }

  async readAll(key: string, maxBytes: number): Promise<Uint8Array | null> {
    assertSafeKey(key);
    const res = await this.s3.get(key);
    if (!res) return null;
    const size = Number(res.headers.get('content-length') ?? '0');
    if (size > maxBytes) {
      await res.body?.cancel();
      throw Object.assign(new Error(`${key} is ${size} bytes, over the ${maxBytes} limit`), { code: 'EFBIG' });
    }
    return new Uint8Array(await res.arrayBuffer());
  }

  async create(tempKey: string, target?: string): Promise<WriteHandle> {
    assertSafeKey(tempKey);
    if (target !== undefined) assertSafeKey(target);
    await mkdir(this.opts.spoolDir, { recursive: true });
    const path = join(this.opts.spoolDir, `${crypto.randomUUID()}.spool`);
    const fh = await open(path, 'wx');
    this.spools.set(tempKey, path);
    const up = new PartUploader(this.s3, target ?? tempKey, this.partSize);
    let closed = false;
    const release = async (): Promise<void> => {
      if (closed) return;
      closed = true;
      this.spools.delete(tempKey);
      await fh.close().catch(() => {});
      await unlink(path).catch(() => {});
    };
    const writev = async (chunks: Uint8Array[]): Promise<void> => {
      await Promise.all([writevAll(fh, chunks), up.write(chunks)]);
    };
    return {
      tempKey,
      write: (chunk) => writev([chunk]),
      writev,
      commit: async (key) => {
        assertSafeKey(key);
        try {
          await up.finish();
          if (up.key !== key) {
            await this.copyObject(up.key, key, up.total);
            await this.s3.del(up.key);
          }
        } finally {
          // The spool goes only now: a tailing reader finds either it or the committed object.
          await release();
        }
      },
      abort: async () => {
        await up.abort();
        await release();
      },
    };
  }

  presign(key: string, expiresSeconds: number): Promise<string> {
    assertSafeKey(key);
    return this.s3.presignGet(key, expiresSeconds);
  }

  async writeAtomic(key: string, data: Uint8Array): Promise<void> {
    assertSafeKey(key);
    // A single PUT is atomic in S3: readers see the old or the new document, never a part.
    await (await this.s3.put(key, data)).body?.cancel();
  }

  async delete(key: string): Promise<boolean> {
    assertSafeKey(key);
    const h = await this.head(key);
    // A key is one object or segments, never both (segments only ever move to another key).
    if (h) {
      await this.s3.del(key);
      return true;
    }
    if (!(await this.segmented(key))) return false;
    const dropped = await this.segments.drop(key, 0);
    this.appended.delete(key);
    return dropped;
  }

  async deleteTree(prefix: string): Promise<boolean> {
    assertSafeKey(prefix);
    let found = await this.delete(prefix);
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await this.s3.list(`${prefix}/`, undefined, token);
      token = page.next;
      const names = page.objects.map((o) => this.s3.keyOf(o.name));
      found ||= names.length > 0;
      // A few at a time: sessions and emptied folders are small; a large tree must not open 1000 requests.
      for (let i = 0; i < names.length; i += 16) await Promise.all(names.slice(i, i + 16).map((n) => this.s3.del(n)));
    }
    return found;
  }

  async append(key: string): Promise<AppendHandle> {
    assertSafeKey(key);
    this.appended.set(key, true);
    return this.segments.append(key);
  }

  async truncate(key: string, size: number): Promise<void> {
    assertSafeKey(key);
    await this.segments.truncate(key, size);
  }

  async move(from: string, to: string): Promise<void> {
    assertSafeKey(from);
    assertSafeKey(to);
    const h = await this.head(from);
    if (h) {
      await this.copyObject(from, to, h.size);
      await this.s3.del(from);
      return;
    }
    const segs = (await this.segmented(from)) ? await this.segments.of(from) : [];
    if (segs.length === 0) throw Object.assign(new Error(`${from} does not exist`), { code: 'ENOENT' });
    const full = segs.filter((s) => s.size > 0);
    const only = full[0];
    if (full.length === 1 && only) await this.copyObject(only.name, to, only.size);
    else await this.segments.concat(segs, to);
    await this.segments.drop(from, 0);
    this.appended.delete(from);
  }

  /** Server-side copy: one request up to 5 GiB, else a multipart upload of copied ranges. */
  private async copyObject(from: string, to: string, size: number): Promise<void> {
    if (size <= COPY_MAX) return this.s3.copy(from, to);
    const id = await this.s3.createMultipart(to);
    try {
      const etags: string[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        etags.push(await this.s3.copyPart(to, id, n, from, start, Math.min(size, start + COPY_PART) - 1));
      }
      await this.s3.completeMultipart(to, id, etags);
    } catch (e) {
      await this.s3.abortMultipart(to, id).catch(() => {});
      throw e;
    }
  }

  async list(prefix: string): Promise<string[]> {
    assertSafeKey(prefix);
    const names = new Set<string>();
    const base = `${prefix}/`;
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await this.s3.list(base, '/', token);
      token = page.next;
      for (const p of page.prefixes) names.add(this.s3.keyOf(p).slice(base.length, -1));
      for (const o of page.objects) names.add(Segments.baseName(this.s3.keyOf(o.name).slice(base.length)));
    }
    names.delete('');
    return [...names].sort();
  }

  /**
   * Removes what writers killed mid-way left behind, once older than `olderThanMs` (other replicas'
   * writes in flight are younger): incomplete multipart uploads and temp objects under `tempPrefix`.
   */
  async sweep(tempPrefix: string, olderThanMs: number, now: number): Promise<number> {
    let n = 0;
    for (const u of await this.s3.pendingUploads('')) {
      if (now - u.initiatedMs < olderThanMs) continue;
      await this.s3.abortMultipart(u.key, u.uploadId);
      n++;
    }
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await this.s3.list(`${tempPrefix}/`, undefined, token);
      token = page.next;
      for (const o of page.objects) {
        if (now - o.mtimeMs < olderThanMs) continue;
        await this.s3.del(this.s3.keyOf(o.name));
        n++;
      }
    }
    return n;
  }
}

/**
 * Conditional writes for leases. Ceph RGW 16 compares If-Match on PUT against the ETag without its
 * quotes, AWS S3 against the quoted form: the first refusal that a HEAD shows was only the quoting
 * switches to the other form for the rest of the process.
 */
function conditionalOps(s3: S3Client): ConditionalOps {
  let quoted = true;
  const form = (etag: string): string => (quoted ? `"${etag.replace(/"/g, '')}"` : etag.replace(/"/g, ''));
  return {
    async readTagged(key, maxBytes) {
      assertSafeKey(key);
      const res = await s3.get(key);
      if (!res) return null;
      const size = Number(res.headers.get('content-length') ?? '0');
      if (size > maxBytes) {
        await res.body?.cancel();
        throw Object.assign(new Error(`${key} over ${maxBytes} bytes`), { code: 'EFBIG' });
      }
      return { bytes: new Uint8Array(await res.arrayBuffer()), tag: res.headers.get('etag') ?? '' };
    },
    async createIfAbsent(key, data) {
      assertSafeKey(key);
      const res = await s3.put(key, data, { 'if-none-match': '*' });
      await res.body?.cancel();
      return res.status === 412 ? null : (res.headers.get('etag') ?? '');
    },
    async replaceIfTag(key, data, tag) {
      assertSafeKey(key);
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await s3.put(key, data, { 'if-match': form(tag) });
        await res.body?.cancel();
        if (res.status !== 412) return res.headers.get('etag') ?? '';
        const now = await s3.head(key);
        if (!now || now.etag.replace(/"/g, '') !== tag.replace(/"/g, '')) return null;
        quoted = !quoted;
      }
      return null;
    },
  };
}
