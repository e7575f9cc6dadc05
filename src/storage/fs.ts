import { mkdir, open, readdir, rename, rm, stat, truncate, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { assertSafeKey } from './driver.ts';
import type { AppendHandle, FileInfo, ReadHandle, StorageDriver, WriteHandle } from './driver.ts';
import { once } from '../util/once.ts';

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

/** One gathered write; a short write (rare, for files) finishes chunk by chunk. */
export async function writevAll(fh: FileHandle, chunks: Uint8Array[]): Promise<void> {
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const { bytesWritten } = await fh.writev(chunks);
  if (bytesWritten === total) return;
  let skip = bytesWritten;
  for (const c of chunks) {
    if (skip >= c.byteLength) {
      skip -= c.byteLength;
      continue;
    }
    await writeAll(fh, c.subarray(skip));
    skip = 0;
  }
}

export class FsReadHandle implements ReadHandle {
  constructor(private readonly fh: FileHandle) {}
  async read(position: number, length: number): Promise<Uint8Array> {
    const buf = new Uint8Array(length);
    const { bytesRead } = await this.fh.read(buf, 0, length, position);
    return bytesRead === length ? buf : buf.subarray(0, bytesRead);
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

/** Filesystem driver: temp files live on the same volume as their targets, so rename is atomic. */
export class FsDriver implements StorageDriver {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    assertSafeKey(key);
    return join(this.root, ...key.split('/'));
  }

  localPath(key: string): string {
    return this.path(key);
  }

  async stat(key: string): Promise<FileInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : null;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async open(key: string): Promise<ReadHandle | null> {
    try {
      return new FsReadHandle(await open(this.path(key), 'r'));
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async readAll(key: string, maxBytes: number): Promise<Uint8Array | null> {
    let fh: FileHandle;
    try {
      fh = await open(this.path(key), 'r');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    try {
      const { size } = await fh.stat();
      if (size > maxBytes) throw Object.assign(new Error(`${key} is ${size} bytes, over the ${maxBytes} limit`), { code: 'EFBIG' });
      const buf = new Uint8Array(size);
      let off = 0;
      while (off < size) {
        const { bytesRead } = await fh.read(buf, off, size - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === size ? buf : buf.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  async create(tempKey: string): Promise<WriteHandle> {
    const tmp = this.path(tempKey);
    await mkdir(dirname(tmp), { recursive: true });
    const fh = await open(tmp, 'wx');
    const close = once(() => fh.close());
    return {
      tempKey,
      write: (chunk) => writeAll(fh, chunk),
      writev: (chunks) => writevAll(fh, chunks),
      commit: async (key, durable = true) => {
        const target = this.path(key);
        if (durable) await fh.sync();
        await close();
        await mkdir(dirname(target), { recursive: true });
        await rename(tmp, target);
      },
      abort: async () => {
        await close().catch(() => {});
        await unlink(tmp).catch(() => {});
      },
    };
  }

  async writeAtomic(key: string, data: Uint8Array, tempKey: string, durable = true): Promise<void> {
    const w = await this.create(tempKey);
    try {
      await w.write(data);
      await w.commit(key, durable);
    } catch (e) {
      await w.abort();
      throw e;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await rm(this.path(key));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async deleteTree(prefix: string): Promise<boolean> {
    const p = this.path(prefix);
    try {
      await stat(p);
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
    await rm(p, { recursive: true, force: true });
    return true;
  }

  async append(key: string): Promise<AppendHandle> {
    const p = this.path(key);
    await mkdir(dirname(p), { recursive: true });
    const fh = await open(p, 'a');
    return {
      write: (chunk) => writeAll(fh, chunk),
      close: () => fh.close(),
    };
  }

  async truncate(key: string, size: number): Promise<void> {
    await truncate(this.path(key), size);
  }

  async move(from: string, to: string, durable = true): Promise<void> {
    const src = this.path(from);
    const dst = this.path(to);
    if (durable) {
      const fh = await open(src, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await mkdir(dirname(dst), { recursive: true });
    await rename(src, dst);
  }

  async list(prefix: string): Promise<string[]> {
    try {
      return (await readdir(this.path(prefix))).sort();
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
  }
}
