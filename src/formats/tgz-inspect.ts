import { concat } from '../util/bytes.ts';
import { RegistryError } from '../errors.ts';

/** Bounds of an archive read as it arrives. */
export interface InspectLimits {
  /** All entries together, uncompressed: a gzip bomb stops here. */
  maxUnpackedBytes: number;
  maxEntries: number;
}

/** The one file wanted from the archive, directly in its top folder (Helm's Chart.yaml, a crate's Cargo.toml). */
export interface WantedFile {
  file: string;
  maxBytes: number;
  /** What the archive is, for messages ("chart", "crate"). */
  what: string;
}

/** An entry name in the archive: relative, no dot segments, no backslashes or control characters. */
function entryPath(name: string, bad: (m: string) => RegistryError): string[] {
  const clean = name.replace(/\/+$/, '');
  if (clean === '' || clean.startsWith('/') || /[\\\x00-\x1f]/.test(clean)) throw bad(`archive entry "${name}" has an unsafe path`);
  const parts = clean.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw bad(`archive entry "${name}" has an unsafe path`);
  return parts;
}

/**
 * Reads a .tar.gz (a Helm chart, a crate) as it arrives and returns its top folder and the text of
 * the one wanted file in it. Every entry is checked: one top folder, safe paths, files and folders
 * only, bounded in count and in unpacked size. Nothing touches the disk.
 */
export class TgzInspector {
  private readonly gunzip = new DecompressionStream('gzip');
  private readonly input = this.gunzip.writable.getWriter();
  private readonly result: Promise<{ top: string; text: string }>;

  constructor(
    limits: InspectLimits,
    private readonly want: WantedFile,
    private readonly bad: (message: string) => RegistryError,
  ) {
    this.result = this.read(limits);
    // The archive may be refused before all of it is written: the writer's rejections surface through result.
    this.result.catch(() => {});
  }

  async write(chunk: Uint8Array): Promise<void> {
    try {
      await Promise.race([this.input.write(chunk), this.result]);
    } catch (e) {
      // The runtime's own decompression error (Bun's differs from Node's and Deno's) is not the
      // answer: the reader's verdict is.
      await this.result.catch((verdict: unknown) => {
        throw verdict;
      });
      throw e;
    }
  }

  async finish(): Promise<{ top: string; text: string }> {
    await Promise.race([this.input.close(), this.result]).catch(() => {});
    return this.result;
  }

  abort(): void {
    this.input.abort().catch(() => {});
  }

  private async read(limits: InspectLimits): Promise<{ top: string; text: string }> {
    // Loaded on first use: module loading every start pays for, only pushes of archives need.
    const { extract } = await import('tar-stream');
    const ex = extract();
    let unpacked = 0;
    const reader = this.gunzip.readable.getReader();
    // The extractor may be destroyed (an entry refused) while the feed waits for it to drain: then
    // no 'drain' ever comes, and waiting for it left the upload without an answer and its temp file
    // behind (issue 24, 19). Close and error end the wait too.
    const drained = (): Promise<void> =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          ex.off('drain', done);
          ex.off('close', done);
          ex.off('error', done);
          resolve();
        };
        ex.once('drain', done);
        ex.once('close', done);
        ex.once('error', done);
      });
    const feed = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || ex.destroyed) break;
          unpacked += value.byteLength;
          if (unpacked > limits.maxUnpackedBytes) throw this.bad(`the archive unpacks to more than ${limits.maxUnpackedBytes} bytes`);
          if (!ex.write(value)) await drained();
        }
        ex.end(undefined);
      } catch (e) {
        reader.cancel().catch(() => {});
        const err = e instanceof RegistryError ? e : this.bad(`the ${this.want.what} is not a gzip-compressed tar archive`);
        ex.destroy(err);
        throw err;
      }
    })();
    feed.catch(() => {});
    let top: string | undefined;
    let wanted: string | undefined;
    let entries = 0;
    try {
      for await (const entry of ex) {
        if (++entries > limits.maxEntries) throw this.bad(`the archive has more than ${limits.maxEntries} entries`);
        const h = entry.header;
        const parts = entryPath(h.name, this.bad);
        if (top === undefined) top = parts[0];
        else if (parts[0] !== top) throw this.bad(`the archive has more than one top folder ("${top}", "${parts[0] ?? ''}")`);
        if (h.type !== 'file' && h.type !== 'directory') throw this.bad(`archive entry "${h.name}" is a ${h.type ?? 'special file'}: only files and folders are allowed`);
        if (h.type === 'file' && parts.length === 2 && parts[1] === this.want.file) {
          if ((h.size ?? 0) > this.want.maxBytes) throw this.bad(`${this.want.file} is larger than ${sizeText(this.want.maxBytes)}`);
          const chunks: Uint8Array[] = [];
          for await (const c of entry) chunks.push(c as Uint8Array);
          wanted = new TextDecoder().decode(concat(chunks));
        } else {
          entry.resume();
          await new Promise<void>((resolve, reject) => {
            entry.once('end', () => resolve());
            entry.once('error', reject);
          });
        }
      }
      await feed;
    } catch (e) {
      ex.destroy(e instanceof Error ? e : new Error(String(e)));
      // Stop the feed where it is: no more bytes are inflated for a verdict already given. Aborting
      // the gunzip's input errors its output, which ends the feed's read (cancelling the output
      // instead made Node's DecompressionStream enqueue into a closed controller: an uncaught throw).
      this.input.abort(e).catch(() => {});
      await feed.catch(() => {});
      if (e instanceof RegistryError) throw e;
      const fed = await feed.then(() => null, (f: unknown) => f);
      if (fed instanceof RegistryError) throw fed;
      // The tar reader's own words say which header was wrong (a long name or pax header it refuses).
      throw this.bad(`the ${this.want.what} is not a gzip-compressed tar archive${e instanceof Error && e.message ? ` (${e.message.slice(0, 200)})` : ''}`);
    }
    if (top === undefined) throw this.bad('the archive is empty');
    if (wanted === undefined) throw this.bad(`no ${this.want.file} in the archive's top folder "${top}"`);
    return { top, text: wanted };
  }
}

/** 1 MiB, or a byte count. */
const sizeText = (n: number): string => (n % (1 << 20) === 0 ? `${n >> 20} MiB` : `${n} bytes`);
