import type { AppendHandle, FileInfo } from '../driver.ts';
import type { S3Client } from './client.ts';
import { PartUploader } from './io.ts';

export interface Segment {
  /** The object's driver key: `<key>@<offset, 16 digits>`. */
  name: string;
  offset: number;
  size: number;
  mtimeMs: number;
}

/** '@' is outside the key alphabet (driver.ts), so a segment's name never collides with a key. */
const SEP = '@';
const name = (key: string, offset: number): string => `${key}${SEP}${String(offset).padStart(16, '0')}`;

/**
 * Appendable keys on S3, which has no append: each append() writes one object named by the offset
 * it starts at, and the key's content is its segments in order. An upload session can so grow
 * through any replica (each chunk is a PUT, visible to all at once), a failed chunk is taken back
 * by deleting its segment, and the finished upload is copied server-side when it is one segment
 * (a monolithic push) or streamed once into the blob when it is several.
 */
export class Segments {
  constructor(
    private readonly s3: S3Client,
    private readonly partSize: number,
  ) {}

  /** The key a listing shows for an object name (a segment shows as its key). */
  static baseName(objectName: string): string {
    const at = objectName.indexOf(SEP);
    return at < 0 ? objectName : objectName.slice(0, at);
  }

  /**
   * Whether the key is kept as segments: its first segment (offset 0) exists from the session's start
   * and is never dropped alone, so one HEAD answers (cheaper than the listing, which S3 bills 12×).
   */
  async present(key: string): Promise<boolean> {
    return (await this.s3.head(name(key, 0))) !== null;
  }

  async of(key: string): Promise<Segment[]> {
    const out: Segment[] = [];
    for (let token: string | undefined, first = true; first || token; first = false) {
      const page = await this.s3.list(`${key}${SEP}`, '/', token);
      token = page.next;
      for (const o of page.objects) {
        const k = this.s3.keyOf(o.name);
        const offset = Number(k.slice(key.length + 1));
        if (Number.isSafeInteger(offset)) out.push({ name: k, offset, size: o.size, mtimeMs: o.mtimeMs });
      }
    }
    return out.sort((a, b) => a.offset - b.offset);
  }

  async stat(key: string): Promise<FileInfo | null> {
    const segs = await this.of(key);
    if (segs.length === 0) return null;
    const last = segs[segs.length - 1] as Segment;
    return { size: last.offset + last.size, mtimeMs: Math.max(...segs.map((s) => s.mtimeMs)) };
  }

  async append(key: string): Promise<AppendHandle> {
    const segs = await this.of(key);
    const last = segs[segs.length - 1];
    const up = new PartUploader(this.s3, name(key, last ? last.offset + last.size : 0), this.partSize);
    return {
      write: (chunk) => up.write([chunk]),
      // Only a segment with bytes is kept, except the first: an empty key must exist (size 0).
      close: async () => {
        if (up.total > 0 || !last) await up.finish();
        else await up.abort();
      },
    };
  }

  /**
   * Cuts back to `size`. Uploads cut at the start of the chunk they take back (one delete); a cut
   * inside a segment rewrites that segment's head in its place.
   */
  async truncate(key: string, size: number): Promise<void> {
    const segs = await this.of(key);
    for (const s of segs) {
      if (s.offset < size && s.offset + s.size > size) await this.concat([s], s.name, size - s.offset);
    }
    await this.dropSegments(segs.filter((s) => s.offset >= size));
    if (size === 0 || !segs.some((s) => s.offset < size)) await (await this.s3.put(name(key, 0), new Uint8Array(0))).body?.cancel();
  }

  /** Deletes every segment at or after `from`; true when there was one. */
  async drop(key: string, from: number): Promise<boolean> {
    const segs = (await this.of(key)).filter((s) => s.offset >= from);
    await this.dropSegments(segs);
    return segs.length > 0;
  }

  private async dropSegments(segs: Segment[]): Promise<void> {
    for (let i = 0; i < segs.length; i += 16) await Promise.all(segs.slice(i, i + 16).map((s) => this.s3.del(s.name)));
  }

  /** Streams the segments (the first `limit` bytes of each), in order, into one object (memory: two parts). */
  async concat(segs: Segment[], to: string, limit?: number): Promise<void> {
    const up = new PartUploader(this.s3, to, this.partSize);
    try {
      for (const s of segs) {
        if (s.size === 0) continue;
        const res = await this.s3.get(s.name, 0, limit !== undefined ? Math.min(limit, s.size) : s.size);
        if (!res?.body) throw Object.assign(new Error(`${s.name} vanished`), { code: 'ENOENT' });
        for await (const chunk of res.body) await up.write([chunk]);
      }
      await up.finish();
    } catch (e) {
      await up.abort();
      throw e;
    }
  }
}
