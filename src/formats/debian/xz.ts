/**
 * An .xz decoder (LZMA2 filter only, the one dpkg-deb and Debian's archive tools write) for bounded
 * inputs: a .deb's control.tar.xz, an index only published as .xz. Web-standard runtimes have gzip
 * and deflate but no xz, and this is a few hundred lines against a dependency in every runtime.
 * Integrity checks (CRC32, CRC64) are verified; anything else in the container is refused.
 */

import { crc32, crc64 } from '../../util/crc.ts';
import { UnpackOut } from './unpack-out.ts';

export class XzError extends Error {}

const fail = (m: string): never => {
  throw new XzError(m);
};

const u32le = (b: Uint8Array, at: number): number => ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;

/** The LZMA range decoder over one chunk's bytes. */
class Range {
  range = 0xffffffff;
  code = 0;
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {
    if (b[pos] !== 0) fail('a corrupt LZMA chunk');
    for (let i = 1; i < 5; i++) this.code = ((this.code << 8) | (b[pos + i] ?? 0)) >>> 0;
    this.pos += 5;
  }

  private norm(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | (this.b[this.pos++] ?? 0)) >>> 0;
    }
  }

  bit(p: Uint16Array, i: number): number {
    const prob = p[i] ?? 1024;
    const bound = (this.range >>> 11) * prob;
    let r: number;
    if (this.code < bound) {
      this.range = bound;
      p[i] = prob + ((2048 - prob) >>> 5);
      r = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      p[i] = prob - (prob >>> 5);
      r = 1;
    }
    this.norm();
    return r;
  }

  direct(n: number): number {
    let r = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let bit = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        bit = 1;
      }
      r = ((r << 1) | bit) >>> 0;
      this.norm();
    }
    return r;
  }

  tree(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(p, base + m);
    return m - (1 << bits);
  }

  reverse(p: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(p, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
}

// Probability array layout (LZMA's model): offsets into one Uint16Array.
const IS_MATCH = 0;
const IS_REP = IS_MATCH + 192;
const IS_REP_G0 = IS_REP + 12;
const IS_REP_G1 = IS_REP_G0 + 12;
const IS_REP_G2 = IS_REP_G1 + 12;
const IS_REP0_LONG = IS_REP_G2 + 12;
const POS_SLOT = IS_REP0_LONG + 192;
const SPEC_POS = POS_SLOT + 256;
const ALIGN = SPEC_POS + 115;
const LEN = ALIGN + 16;
const REP_LEN = LEN + 514;
const LITERAL = REP_LEN + 514;
// A length coder: choice, choice2, low[16][8], mid[16][8], high[256].
const lenOf = (rc: Range, p: Uint16Array, base: number, posState: number): number => {
  if (rc.bit(p, base) === 0) return rc.tree(p, base + 2 + posState * 8, 3);
  if (rc.bit(p, base + 1) === 0) return 8 + rc.tree(p, base + 2 + 128 + posState * 8, 3);
  return 16 + rc.tree(p, base + 2 + 256, 8);
};

/** LZMA state carried across LZMA2 chunks (reset as each chunk's control byte says). */
class Lzma {
  lc = 0;
  lp = 0;
  pb = 0;
  probs = new Uint16Array(LITERAL);
  state = 0;
  reps = [0, 0, 0, 0];

  props(b: number): void {
    if (b >= 9 * 5 * 5) fail('bad LZMA properties');
    this.lc = b % 9;
    this.lp = Math.floor(b / 9) % 5;
    this.pb = Math.floor(b / 45);
    if (this.lc + this.lp > 4) fail('bad LZMA2 properties');
  }

  reset(): void {
    this.probs = new Uint16Array(LITERAL + 0x300 * (1 << (this.lc + this.lp))).fill(1024);
    this.state = 0;
    this.reps = [0, 0, 0, 0];
  }

  /** Decodes `n` bytes of one chunk into `out`; `floor` is where the dictionary was last reset. */
  chunk(rc: Range, out: UnpackOut, n: number, floor: number): void {
    const p = this.probs;
    const end = out.len + n;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    let { state } = this;
    let [rep0 = 0, rep1 = 0, rep2 = 0, rep3 = 0] = this.reps;
    while (out.len < end) {
      const posState = out.len & pbMask;
      if (rc.bit(p, IS_MATCH + (state << 4) + posState) === 0) {
        const prev = out.len > floor ? out.back(1) : 0;
        const base = LITERAL + 0x300 * (((out.len & lpMask) << this.lc) + (prev >>> (8 - this.lc)));
        let sym = 1;
        if (state >= 7) {
          let match = out.back(rep0 + 1);
          do {
            const mb = (match >>> 7) & 1;
            match <<= 1;
            const b = rc.bit(p, base + ((1 + mb) << 8) + sym);
            sym = (sym << 1) | b;
            if (mb !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(p, base + sym);
        out.put(sym - 0x100);
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (rc.bit(p, IS_REP + state) !== 0) {
        if (out.len === floor) fail('a repeated match before any data');
        if (rc.bit(p, IS_REP_G0 + state) === 0) {
          if (rc.bit(p, IS_REP0_LONG + (state << 4) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            out.match(rep0 + 1, 1, floor);
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(p, IS_REP_G1 + state) === 0) dist = rep1;
          else {
            if (rc.bit(p, IS_REP_G2 + state) === 0) dist = rep2;
            else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        len = lenOf(rc, p, REP_LEN, posState);
        state = state < 7 ? 8 : 11;
      } else {
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        len = lenOf(rc, p, LEN, posState);
        state = state < 7 ? 7 : 10;
        const slot = rc.tree(p, POS_SLOT + Math.min(len, 3) * 64, 6);
        if (slot < 4) rep0 = slot;
        else {
          const bits = (slot >>> 1) - 1;
          let dist = ((2 | (slot & 1)) << bits) >>> 0;
          if (slot < 14) dist += rc.reverse(p, SPEC_POS + dist - slot, bits);
          else dist += ((rc.direct(bits - 4) << 4) >>> 0) + rc.reverse(p, ALIGN, 4);
          rep0 = dist >>> 0;
        }
        if (rep0 === 0xffffffff) fail('an end marker inside an LZMA2 chunk');
      }
      if (out.len + len + 2 > end) fail('a match runs past the end of its chunk');
      out.match(rep0 + 1, len + 2, floor);
    }
    this.state = state;
    this.reps = [rep0, rep1, rep2, rep3];
  }
}

function readVarint(b: Uint8Array, at: { pos: number }): number {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    const x = b[at.pos++];
    if (x === undefined) fail('truncated');
    v += ((x ?? 0) & 0x7f) * 2 ** (7 * i);
    if (((x ?? 0) & 0x80) === 0) return v;
  }
  return fail('a bad number in a block header');
}

/** One LZMA2 block's data from `pos`; returns where it ended. */
function lzma2(b: Uint8Array, pos: number, out: UnpackOut): number {
  const lz = new Lzma();
  let floor = out.len;
  let started = false;
  for (;;) {
    const c = b[pos++] ?? fail('truncated LZMA2 data');
    if (c === 0) return pos;
    if (c === 1 || c === 2) {
      const n = (((b[pos] ?? 0) << 8) | (b[pos + 1] ?? 0)) + 1;
      pos += 2;
      if (c === 1) floor = out.len;
      else if (!started) fail('LZMA2 data starts without a dictionary reset');
      if (pos + n > b.byteLength) fail('truncated LZMA2 data');
      for (let i = 0; i < n; i++) out.put(b[pos + i] ?? 0);
      pos += n;
      started = true;
      continue;
    }
    if (c < 0x80) fail('a bad LZMA2 control byte');
    const unpacked = ((c & 0x1f) << 16) + (((b[pos] ?? 0) << 8) | (b[pos + 1] ?? 0)) + 1;
    const packed = (((b[pos + 2] ?? 0) << 8) | (b[pos + 3] ?? 0)) + 1;
    pos += 4;
    const reset = (c >>> 5) & 3;
    if (reset === 3) floor = out.len;
    else if (!started) fail('LZMA2 data starts without a dictionary reset');
    if (reset >= 2) lz.props(b[pos++] ?? 0);
    if (reset >= 1) lz.reset();
    if (pos + packed > b.byteLength) fail('truncated LZMA2 data');
    const rc = new Range(b, pos);
    lz.chunk(rc, out, unpacked, floor);
    // A chunk's range coder ends at code 0 exactly where its packed size says (xz checks the same).
    if (rc.code !== 0 || rc.pos !== pos + packed) fail('a corrupt LZMA chunk end');
    pos += packed;
    started = true;
  }
}

/** The whole .xz file decompressed, at most `maxBytes`; throws XzError on anything malformed. */
export function unxz(b: Uint8Array, maxBytes: number): Uint8Array {
  const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  if (b.byteLength < 32 || magic.some((m, i) => b[i] !== m)) fail('not an xz file');
  if (b[6] !== 0 || crc32(b, 6, 8) !== u32le(b, 8)) fail('a bad xz stream header');
  const check = (b[7] ?? 0) & 0x0f;
  const checkBytes = check === 0 ? 0 : 4 << Math.floor((check - 1) / 3);
  const out = new UnpackOut(maxBytes, fail);
  let pos = 12;
  for (;;) {
    const hsize = b[pos] ?? fail('truncated');
    if (hsize === 0) break; // the index: every block is read
    const hlen = (hsize + 1) * 4;
    if (pos + hlen > b.byteLength || crc32(b, pos, pos + hlen - 4) !== u32le(b, pos + hlen - 4)) fail('a bad block header');
    const flags = b[pos + 1] ?? 0;
    const at = { pos: pos + 2 };
    if (flags & 0x40) readVarint(b, at);
    if (flags & 0x80) readVarint(b, at);
    if ((flags & 3) !== 0 || readVarint(b, at) !== 0x21) fail('only the LZMA2 filter is supported');
    if (readVarint(b, at) !== 1) fail('bad LZMA2 filter properties');
    const start = out.len;
    let end = lzma2(b, pos + hlen, out);
    while (end % 4 !== 0) if (b[end++] !== 0) fail('bad block padding');
    if (check === 1 && crc32(out.buf, start, out.len) !== u32le(b, end)) fail('CRC32 mismatch');
    if (check === 4) {
      const [lo, hi] = crc64(start === 0 ? out.buf : out.buf.subarray(start), out.len - start);
      if (lo !== u32le(b, end) || hi !== u32le(b, end + 4)) fail('CRC64 mismatch');
    }
    pos = end + checkBytes;
  }
  // The index (one record per block, sizes not compared) and the footer: both checksummed.
  const at = { pos: pos + 1 };
  const records = readVarint(b, at);
  for (let i = 0; i < records * 2; i++) readVarint(b, at);
  while (at.pos % 4 !== 0) if (b[at.pos++] !== 0) fail('bad index padding');
  if (at.pos + 16 > b.byteLength || crc32(b, pos, at.pos) !== u32le(b, at.pos)) fail('a bad xz index');
  const foot = at.pos + 4;
  if (crc32(b, foot + 4, foot + 10) !== u32le(b, foot) || b[foot + 10] !== 0x59 || b[foot + 11] !== 0x5a || b[foot + 9] !== b[7]) fail('a bad xz stream footer');
  return out.buf.slice(0, out.len);
}
