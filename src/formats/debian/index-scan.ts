import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { concat } from '../../util/bytes.ts';
import { blobChunks } from '../bundle-util.ts';
import type { CachedFile } from '../remote-file.ts';
import { parseStanzas } from './control.ts';
import type { Stanza } from './control.ts';
import { XzError, unxz } from './xz.ts';

/** An index file's bytes as they come: from the store, or from the download that is filling it. */
export async function* chunksOf(blobs: BlobStore, f: CachedFile): AsyncIterable<Uint8Array> {
  if (f.kind === 'stream') {
    const src = f.open(0, undefined);
    try {
      for (let c = await src.next(); c !== null; c = await src.next()) yield c;
    } finally {
      await src.close();
    }
    return;
  }
  yield* blobChunks(blobs, f.digest, 'an index file', 'a cached index file is no longer in the store');
}

/** The lines of an index file (plain, .gz or .xz by its name), decompressed as they arrive; at most `max` bytes of text. */
export async function* linesOf(chunks: AsyncIterable<Uint8Array>, path: string, max: number): AsyncIterable<string> {
  let text: AsyncIterable<Uint8Array> = chunks;
  if (path.endsWith('.xz')) {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of chunks) {
      n += c.byteLength;
      if (n > max) throw new RegistryError('upstream', `${path} is larger than ${max} bytes`);
      parts.push(c);
    }
    let plain: Uint8Array;
    try {
      plain = unxz(concat(parts, n), max);
    } catch (e) {
      if (e instanceof XzError) throw new RegistryError('upstream', `${path} does not decompress: ${e.message}`);
      throw e;
    }
    text = (async function* () {
      yield plain;
    })();
  } else if (path.endsWith('.gz')) {
    const ds = new DecompressionStream('gzip');
    const w = ds.writable.getWriter();
    const feed = (async () => {
      for await (const c of chunks) await w.write(c);
      await w.close();
    })();
    feed.catch(() => {});
    text = (async function* (src: ReadableStream<Uint8Array>) {
      for await (const c of src) yield c;
      await feed;
    })(ds.readable);
  }
  const dec = new TextDecoder();
  let rest = '';
  let n = 0;
  for await (const c of text) {
    n += c.byteLength;
    if (n > max) throw new RegistryError('upstream', `${path} unpacks to more than ${max} bytes`);
    rest += dec.decode(c, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    yield* lines;
  }
  rest += dec.decode();
  if (rest) yield rest;
}

/** Filename → size and SHA256 of every stanza of a Packages index (what pool files are verified against). */
export async function poolEntries(lines: AsyncIterable<string>): Promise<Map<string, { size: number; sha256: string }>> {
  const out = new Map<string, { size: number; sha256: string }>();
  let file = '';
  let size = -1;
  let sha = '';
  const flush = (): void => {
    if (file && size >= 0 && /^[0-9a-f]{64}$/.test(sha)) out.set(file, { size, sha256: sha });
    file = '';
    size = -1;
    sha = '';
  };
  for await (const l of lines) {
    if (l.trim() === '') flush();
    else if (l.startsWith('Filename:')) file = l.slice(9).trim();
    else if (l.startsWith('Size:')) size = Number(l.slice(5).trim());
    else if (l.startsWith('SHA256:')) sha = l.slice(7).trim();
  }
  flush();
  return out;
}

/** Every stanza of an index (a virtual repo merges its members' Packages). */
export async function stanzasOfLines(lines: AsyncIterable<string>): Promise<Stanza[]> {
  const out: Stanza[] = [];
  let cur: string[] = [];
  for await (const l of lines) {
    if (l.trim() === '') {
      if (cur.length) out.push(...parseStanzas(cur.join('\n')));
      cur = [];
    } else cur.push(l);
  }
  if (cur.length) out.push(...parseStanzas(cur.join('\n')));
  return out;
}

/** `<Directory>/<file>` → size and SHA256 of every file of every stanza of a Sources index (its Checksums-Sha256 lines). */
export async function sourceEntries(lines: AsyncIterable<string>): Promise<Map<string, { size: number; sha256: string }>> {
  const out = new Map<string, { size: number; sha256: string }>();
  let dir = '';
  let files: Array<[string, number, string]> = [];
  let inSums = false;
  const flush = (): void => {
    if (dir) for (const [name, size, sha] of files) out.set(`${dir}/${name}`, { size, sha256: sha });
    dir = '';
    files = [];
    inSums = false;
  };
  for await (const l of lines) {
    if (l.trim() === '') flush();
    else if (l.startsWith(' ') || l.startsWith('\t')) {
      if (!inSums) continue;
      const [sha, size, name] = l.trim().split(/\s+/);
      if (sha && /^[0-9a-f]{64}$/.test(sha) && size && /^\d+$/.test(size) && name && !name.includes('/')) files.push([name, Number(size), sha]);
    } else {
      inSums = l.startsWith('Checksums-Sha256:');
      if (l.startsWith('Directory:')) dir = l.slice(10).trim();
    }
  }
  flush();
  return out;
}
