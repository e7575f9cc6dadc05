import { RegistryError } from '../../errors.ts';
import type { ReadHandle } from '../../storage/driver.ts';

/** Limits of golang.org/x/mod/zip: the whole module, and go.mod / LICENSE files. */
export const MAX_ZIP_BYTES = 500 << 20;
const MAX_GO_MOD = 16 << 20;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const bad = (message: string): RegistryError => new RegistryError('invalid', `invalid module zip: ${message}`, { code: 'ZIP_INVALID' });
const isZipError = (e: unknown): boolean => e instanceof RegistryError && e.code === 'ZIP_INVALID';

/** The central directory of a zip held in a file (read with positional reads, never whole). */
export async function readCentralDirectory(fh: ReadHandle, fileSize: number): Promise<ZipEntry[]> {
  const tailLen = Math.min(fileSize, 22 + 65535);
  const tail = await fh.read(fileSize - tailLen, tailLen);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end of central directory (not a zip)');
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (cdOffset + cdSize > fileSize || count === 0xffff || cdOffset === 0xffffffff) throw bad('central directory out of range (zip64 is not used for modules)');
  const cd = await fh.read(cdOffset, cdSize);
  const v = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const out: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.byteLength || v.getUint32(at, true) !== 0x02014b50) throw bad('broken central directory');
    const nameLen = v.getUint16(at + 28, true);
    const extraLen = v.getUint16(at + 30, true);
    const commentLen = v.getUint16(at + 32, true);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(cd.subarray(at + 46, at + 46 + nameLen));
    out.push({ name, method: v.getUint16(at + 10, true), compressedSize: v.getUint32(at + 20, true), size: v.getUint32(at + 24, true), localOffset: v.getUint32(at + 42, true) });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const READ_CHUNK = 64 << 10;

/**
 * One entry's bytes (stored or deflated), bounded by `max`. The compressed bytes are read in chunks
 * and inflated as a stream, counting: an entry whose header understates what it inflates to (a zip
 * bomb: 1 MB that inflates to gigabytes) is refused at the first byte past its declared size, so
 * memory holds at most `max` plus one chunk whatever the upload claims.
 */
export async function readEntry(fh: ReadHandle, e: ZipEntry, max: number): Promise<Uint8Array> {
  if (e.size > max) throw bad(`${e.name} is larger than ${max} bytes`);
  const head = await fh.read(e.localOffset, 30);
  const hv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head.byteLength < 30 || hv.getUint32(0, true) !== 0x04034b50) throw bad(`no local header for ${e.name}`);
  const start = e.localOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (e.method === 0) {
    if (e.compressedSize !== e.size) throw bad(`${e.name} is stored with ${e.compressedSize} bytes, its header says ${e.size}`);
    return fh.read(start, e.size);
  }
  if (e.method !== 8) throw bad(`${e.name} uses compression method ${e.method} (only stored and deflate)`);
  let at = 0;
  const input = new ReadableStream<Uint8Array>({
    pull: async (c) => {
      if (at >= e.compressedSize) return c.close();
      const chunk = await fh.read(start + at, Math.min(READ_CHUNK, e.compressedSize - at));
      if (chunk.byteLength === 0) return c.error(bad(`${e.name} is cut short`));
      at += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  const reader = input.pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const out = new Uint8Array(e.size);
  let n = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.byteLength > e.size) throw bad(`${e.name} inflates to more than the ${e.size} bytes its header says`);
      out.set(value, n);
      n += value.byteLength;
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw isZipError(err) ? err : bad(`${e.name} does not inflate: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (n !== e.size) throw bad(`${e.name} inflates to ${n} bytes, its header says ${e.size}`);
  return out;
}

/**
 * The module zip rules of golang.org/x/mod/zip (CheckZip): every file under `<module>@<version>/`,
 * valid and unique names, no two that differ only in case, sizes within the limits. Returns the
 * bytes of the root go.mod when the zip has one.
 */
export async function checkModuleZip(fh: ReadHandle, fileSize: number, module: string, version: string): Promise<Uint8Array | null> {
  if (fileSize > MAX_ZIP_BYTES) throw bad(`larger than ${MAX_ZIP_BYTES} bytes`);
  const prefix = `${module}@${version}/`;
  const entries = await readCentralDirectory(fh, fileSize);
  const seen = new Set<string>();
  const folded = new Map<string, string>();
  let total = 0;
  let goMod: ZipEntry | undefined;
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) throw bad(`file ${JSON.stringify(e.name)} is not under ${prefix}`);
    const rel = e.name.slice(prefix.length);
    if (rel === '' || rel.endsWith('/')) continue; // directory entries carry no content
    if (rel.split('/').some((s) => s === '' || s === '.' || s === '..') || /[\\\u0000-\u001f]/.test(rel)) throw bad(`malformed file path ${JSON.stringify(rel)}`);
    if (seen.has(rel)) throw bad(`multiple entries for ${rel}`);
    seen.add(rel);
    const lower = rel.toLowerCase();
    const other = folded.get(lower);
    if (other !== undefined) throw bad(`${rel} and ${other} differ only in case`);
    folded.set(lower, rel);
    total += e.size;
    if (total > MAX_ZIP_BYTES) throw bad(`total uncompressed size over ${MAX_ZIP_BYTES} bytes`);
    if (rel === 'go.mod') goMod = e;
  }
  return goMod ? readEntry(fh, goMod, MAX_GO_MOD) : null;
}
