import type { ReadHandle } from '../src/storage/driver.ts';

/** The few Deno file APIs the read handle uses (the adapter passes `Deno.open`). */
export interface DenoFsFile {
  read(p: Uint8Array): Promise<number | null>;
  seek(offset: number, whence: 0): Promise<number>;
  close(): void;
}

/**
 * A file opened with Deno's own API as the core's ReadHandle (RuntimeCaps.openFile). The core's
 * file stream reads it chunk by chunk and reports each one to the download guard itself, so a
 * stalled client is still cut off; Deno's native file stream would have needed a wrapping stream
 * for that, which cost 30-40 % of warm large-blob throughput (bench: one 20 MB blob over and over).
 * Reads are sequential, so the file offset is only moved when a read asks for another position.
 */
export async function denoReadHandle(open: (path: string) => Promise<DenoFsFile>, path: string): Promise<ReadHandle | null> {
  let file: DenoFsFile;
  try {
    file = await open(path);
  } catch {
    return null; // gone since the stat: the portable path answers (404)
  }
  let offset = 0;
  let closed = false;
  return {
    async read(position: number, length: number): Promise<Uint8Array> {
      if (position !== offset) offset = await file.seek(position, 0);
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = await file.read(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      offset += got;
      return got === length ? buf : buf.subarray(0, got);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      file.close();
    },
  };
}
