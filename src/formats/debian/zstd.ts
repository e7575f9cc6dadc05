/**
 * A Zstandard decoder (RFC 8878) for bounded inputs: the control member of a .deb built on Ubuntu
 * (dpkg-deb there writes control.tar.zst). Web-standard runtimes have no zstd. Frames, raw / RLE /
 * compressed blocks, Huffman literals (1 or 4 streams), FSE sequences with repeat offsets. Not
 * supported (refused): dictionaries. A frame's content checksum (XXH64), when it has one, is verified.
 */

import { xxh64low } from '../../util/xxh64.ts';
import { UnpackOut } from './unpack-out.ts';
import { ZstdError } from './zstd-error.ts';
import { BackBits, LL_BASE, LL_BITS, ML_BASE, ML_BITS, PREDEFINED, huffStream, readFse, readHuffman, rle } from './zstd-tables.ts';
import type { Fse, Huff } from './zstd-tables.ts';

export { ZstdError };

const fail = (m: string): never => {
  throw new ZstdError(m);
};

/** State that lives across the blocks of a frame. */
interface FrameState {
  huff: Huff | undefined;
  ll: Fse | undefined;
  of: Fse | undefined;
  ml: Fse | undefined;
  rep: [number, number, number];
}

function literals(b: Uint8Array, at: number, st: FrameState): { lits: Uint8Array; len: number } {
  const b0 = b[at] ?? fail('truncated');
  const type = b0 & 3;
  const sf = (b0 >> 2) & 3;
  if (type < 2) {
    const [hl, size] = sf === 1 ? [2, (b0 >> 4) + ((b[at + 1] ?? 0) << 4)] : sf === 3 ? [3, (b0 >> 4) + ((b[at + 1] ?? 0) << 4) + ((b[at + 2] ?? 0) << 12)] : [1, b0 >> 3];
    if (type === 0) return { lits: b.slice(at + hl, at + hl + size), len: hl + size };
    return { lits: new Uint8Array(size).fill(b[at + hl] ?? 0), len: hl + 1 };
  }
  const hl = sf < 2 ? 3 : sf === 2 ? 4 : 5;
  let v = 0;
  for (let i = hl - 1; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  const w = sf < 2 ? 10 : sf === 2 ? 14 : 18;
  const regen = Math.floor(v / 16) % 2 ** w;
  const comp = Math.floor(v / 2 ** (4 + w)) % 2 ** w;
  let p = at + hl;
  if (type === 2) {
    const t = readHuffman(b, p);
    st.huff = t.huff;
    p += t.len;
  }
  const h = st.huff ?? fail('a treeless literals block without a previous table');
  const data = at + hl + comp - p;
  const lits = new Uint8Array(regen);
  if (sf === 0) huffStream(b, p, data, h, lits, 0, regen);
  else {
    const s1 = (b[p] ?? 0) | ((b[p + 1] ?? 0) << 8);
    const s2 = (b[p + 2] ?? 0) | ((b[p + 3] ?? 0) << 8);
    const s3 = (b[p + 4] ?? 0) | ((b[p + 5] ?? 0) << 8);
    const s4 = data - 6 - s1 - s2 - s3;
    if (s4 < 0) fail('bad Huffman stream sizes');
    const seg = Math.ceil(regen / 4);
    let q = p + 6;
    [s1, s2, s3, s4].forEach((sz, i) => {
      huffStream(b, q, sz, h, lits, seg * i, i < 3 ? seg : regen - 3 * seg);
      q += sz;
    });
  }
  return { lits, len: hl + comp };
}

function tableFor(b: Uint8Array, at: number, mode: number, prev: Fse | undefined, predefined: Fse, maxLog: number, maxSym: number): { fse: Fse; len: number } {
  if (mode === 0) return { fse: predefined, len: 0 };
  if (mode === 1) return { fse: rle(b[at] ?? 0), len: 1 };
  if (mode === 2) return readFse(b, at, maxLog, maxSym);
  return { fse: prev ?? fail('a repeated sequence table without a previous one'), len: 0 };
}

function block(b: Uint8Array, at: number, size: number, st: FrameState, out: UnpackOut, frameStart: number): void {
  const lit = literals(b, at, st);
  let p = at + lit.len;
  const end = at + size;
  const c0 = b[p++] ?? fail('truncated');
  let count = c0;
  if (c0 >= 128 && c0 < 255) count = ((c0 - 128) << 8) + (b[p++] ?? 0);
  else if (c0 === 255) {
    count = (b[p] ?? 0) + ((b[p + 1] ?? 0) << 8) + 0x7f00;
    p += 2;
  }
  if (count === 0) {
    out.bytes(lit.lits);
    return;
  }
  const modes = b[p++] ?? 0;
  const ll = tableFor(b, p, modes >> 6, st.ll, PREDEFINED.ll, 9, 35);
  p += ll.len;
  const of = tableFor(b, p, (modes >> 4) & 3, st.of, PREDEFINED.of, 8, 31);
  p += of.len;
  const ml = tableFor(b, p, (modes >> 2) & 3, st.ml, PREDEFINED.ml, 9, 52);
  p += ml.len;
  st.ll = ll.fse;
  st.of = of.fse;
  st.ml = ml.fse;
  const s = new BackBits(b, p, end - p);
  let sl = s.read(ll.fse.log);
  let so = s.read(of.fse.log);
  let sm = s.read(ml.fse.log);
  let li = 0;
  const rep = st.rep;
  for (let i = 0; i < count; i++) {
    const ofCode = of.fse.sym[so] ?? 0;
    const mlCode = ml.fse.sym[sm] ?? 0;
    const llCode = ll.fse.sym[sl] ?? 0;
    if (ofCode > 31 || mlCode > 52 || llCode > 35) fail('a bad sequence code');
    const ov = 2 ** ofCode + s.read(ofCode);
    const mlen = (ML_BASE[mlCode] ?? 0) + s.read(ML_BITS[mlCode] ?? 0);
    const llen = (LL_BASE[llCode] ?? 0) + s.read(LL_BITS[llCode] ?? 0);
    let offset: number;
    if (ov > 3) {
      offset = ov - 3;
      rep[2] = rep[1];
      rep[1] = rep[0];
      rep[0] = offset;
    } else {
      const idx = ov - 1 + (llen === 0 ? 1 : 0);
      if (idx === 0) offset = rep[0];
      else {
        offset = idx === 3 ? rep[0] - 1 : rep[idx as 1 | 2];
        if (idx > 1) rep[2] = rep[1];
        rep[1] = rep[0];
        rep[0] = offset;
      }
    }
    if (li + llen > lit.lits.byteLength) fail('a sequence takes more literals than there are');
    out.bytes(lit.lits.subarray(li, li + llen));
    li += llen;
    out.match(offset, mlen, frameStart);
    if (i < count - 1) {
      sl = (ll.fse.base[sl] ?? 0) + s.read(ll.fse.bits[sl] ?? 0);
      sm = (ml.fse.base[sm] ?? 0) + s.read(ml.fse.bits[sm] ?? 0);
      so = (of.fse.base[so] ?? 0) + s.read(of.fse.bits[so] ?? 0);
    }
  }
  if (s.pos !== 0) fail('a sequence stream of the wrong length');
  out.bytes(lit.lits.subarray(li));
}

/** Every frame of a .zst decompressed, at most `maxBytes`; throws ZstdError on anything malformed or unsupported. */
export function unzstd(b: Uint8Array, maxBytes: number): Uint8Array {
  const out = new UnpackOut(maxBytes, fail);
  let p = 0;
  if (b.byteLength < 6) fail('not a zstd file');
  while (p < b.byteLength) {
    const magic = ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      const n = ((b[p + 4] ?? 0) | ((b[p + 5] ?? 0) << 8) | ((b[p + 6] ?? 0) << 16) | ((b[p + 7] ?? 0) << 24)) >>> 0;
      p += 8 + n;
      continue;
    }
    if (magic !== 0xfd2fb528) fail('not a zstd file');
    const d = b[p + 4] ?? 0;
    p += 5;
    const single = (d >> 5) & 1;
    if (d & 8) fail('a reserved bit is set');
    if (!single) p++;
    if ((d & 3) !== 0) {
      const n = [0, 1, 2, 4][d & 3] ?? 0;
      let id = 0;
      for (let i = n - 1; i >= 0; i--) id = id * 256 + (b[p + i] ?? 0);
      if (id !== 0) fail('zstd dictionaries are not supported');
      p += n;
    }
    const fcs = d >> 6;
    const fcsBytes = fcs === 0 ? single : ([0, 2, 4, 8][fcs] ?? 0);
    let contentSize: number | undefined;
    if (fcsBytes > 0) {
      contentSize = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) contentSize = contentSize * 256 + (b[p + i] ?? 0);
      if (fcsBytes === 2) contentSize += 256;
    }
    p += fcsBytes;
    const st: FrameState = { huff: undefined, ll: undefined, of: undefined, ml: undefined, rep: [1, 4, 8] };
    const frameStart = out.len;
    for (;;) {
      if (p + 3 > b.byteLength) fail('truncated');
      const h = (b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16);
      p += 3;
      const last = h & 1;
      const type = (h >> 1) & 3;
      const size = h >>> 3;
      if (type === 3) fail('a reserved block type');
      if (type === 1) {
        out.ensure(size);
        out.buf.fill(b[p] ?? 0, out.len, out.len + size);
        out.len += size;
        p += 1;
      } else {
        if (p + size > b.byteLength) fail('truncated');
        if (type === 0) out.bytes(b.subarray(p, p + size));
        else block(b, p, size, st, out, frameStart);
        p += size;
      }
      if (last) break;
    }
    if (contentSize !== undefined && out.len - frameStart !== contentSize) fail('the frame is not the size its header says');
    if (d & 4) {
      const want = ((b[p] ?? 0) | ((b[p + 1] ?? 0) << 8) | ((b[p + 2] ?? 0) << 16) | ((b[p + 3] ?? 0) << 24)) >>> 0;
      if (xxh64low(out.buf.subarray(frameStart, out.len)) !== want) fail('content checksum mismatch');
      p += 4;
    }
  }
  return out.buf.slice(0, out.len);
}

