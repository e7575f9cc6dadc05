import type { ReadHandle } from '../../storage/driver.ts';
import { concat } from '../../util/bytes.ts';

/** The METADATA file of a wheel is small; one larger than this is not read. */
const MAX_METADATA = 4 << 20;
/** The end of central directory record, with the longest comment a zip may carry, is in this tail. */
const TAIL = 22 + 0xffff;

const u16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const u32 = (b: Uint8Array, o: number): number => (u16(b, o) | (u16(b, o + 2) << 16)) >>> 0;

async function readExactly(fh: ReadHandle, pos: number, len: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const c = await fh.read(pos + got, len - got);
    if (c.byteLength === 0) return null;
    out.set(c, got);
    got += c.byteLength;
  }
  return out;
}

async function inflateRaw(data: Uint8Array, max: number): Promise<Uint8Array | null> {
  const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) return null;
      parts.push(value);
    }
  } catch {
    return null;
  } finally {
    reader.releaseLock();
  }
  return concat(parts, total);
}

/**
 * A wheel's `<name>-<version>.dist-info/METADATA` (PEP 658's `.metadata` file), read through the
 * zip's central directory: the tail, the directory, one local header and the one entry; nothing
 * unpacked, the wheel never read whole. null when the file is no zip, has no such entry (or
 * several), or the entry is too large, encrypted or compressed by anything but deflate.
 */
export async function wheelMetadata(fh: ReadHandle, size: number): Promise<Uint8Array | null> {
  const tailLen = Math.min(size, TAIL);
  const tail = await readExactly(fh, size - tailLen, tailLen);
  if (!tail) return null;
  let eocd = -1;
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const cdSize = u32(tail, eocd + 12);
  const cdOffset = u32(tail, eocd + 16);
  // Zip64 (offsets at 0xffffffff) wheels are over 4 GiB; their metadata is not extracted.
  if (cdOffset === 0xffffffff || cdOffset + cdSize > size || cdSize > 64 << 20) return null;
  const cd = await readExactly(fh, cdOffset, cdSize);
  if (!cd) return null;
  let found: { method: number; flags: number; csize: number; usize: number; local: number } | null = null;
  for (let p = 0; p + 46 <= cd.byteLength; ) {
    if (u32(cd, p) !== 0x02014b50) return null;
    const nameLen = u16(cd, p + 28);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
    if (/^[^/]+\.dist-info\/METADATA$/.test(name)) {
      if (found) return null;
      found = { flags: u16(cd, p + 8), method: u16(cd, p + 10), csize: u32(cd, p + 20), usize: u32(cd, p + 24), local: u32(cd, p + 42) };
    }
    p += 46 + nameLen + u16(cd, p + 30) + u16(cd, p + 32);
  }
  if (!found || found.usize > MAX_METADATA || found.csize > MAX_METADATA || (found.flags & 1) !== 0) return null;
  const lh = await readExactly(fh, found.local, 30);
  if (!lh || u32(lh, 0) !== 0x04034b50) return null;
  const data = await readExactly(fh, found.local + 30 + u16(lh, 26) + u16(lh, 28), found.csize);
  if (!data) return null;
  if (found.method === 0) return data.byteLength === found.usize ? data : null;
  if (found.method !== 8) return null;
  const out = await inflateRaw(data, MAX_METADATA);
  return out && out.byteLength === found.usize ? out : null;
}

/** The fields of a METADATA file (RFC 822 style): repeated fields in order, the body as `description`. */
export function metadataFields(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const [head = '', ...body] = text.replace(/\r\n/g, '\n').split('\n\n');
  let last: string | null = null;
  for (const line of head.split('\n')) {
    if (/^[ \t]/.test(line) && last) {
      const vs = out.get(last);
      if (vs && vs.length > 0) vs[vs.length - 1] = `${vs[vs.length - 1]}\n${line.trim()}`;
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    last = line.slice(0, i).trim().toLowerCase();
    const vs = out.get(last) ?? [];
    vs.push(line.slice(i + 1).trim());
    out.set(last, vs);
  }
  if (body.length > 0 && body.join('\n\n').trim() !== '') out.set('description', [body.join('\n\n')]);
  return out;
}
