import { ZstdError } from './zstd-error.ts';

/** Zstandard's entropy tables (RFC 8878 4): FSE and Huffman decoding tables and the backward bit streams they read. */

const fail = (m: string): never => {
  throw new ZstdError(m);
};

export const highbit = (n: number): number => 31 - Math.clz32(n);

/** Little-endian bits [pos, pos+n) of a byte range (bits before its start read as 0). */
export function bitsAt(b: Uint8Array, start: number, pos: number, n: number): number {
  if (n === 0) return 0;
  const lo = Math.floor(pos / 8);
  const hi = Math.floor((pos + n - 1) / 8);
  let v = 0;
  for (let i = hi; i >= lo; i--) v = v * 256 + (i >= 0 ? (b[start + i] ?? 0) : 0);
  return Math.floor(v / 2 ** (pos - lo * 8)) % 2 ** n;
}

/** A backward bit stream (Huffman streams, sequences): read from its end, after the marker bit. */
export class BackBits {
  pos: number;
  constructor(
    private readonly b: Uint8Array,
    private readonly start: number,
    len: number,
  ) {
    const last = b[start + len - 1] ?? 0;
    if (len === 0 || last === 0) fail('a bit stream without its end marker');
    this.pos = (len - 1) * 8 + highbit(last);
  }
  read(n: number): number {
    this.pos -= n;
    return bitsAt(this.b, this.start, this.pos, n);
  }
  peek(n: number): number {
    return bitsAt(this.b, this.start, this.pos - n, n);
  }
}

/** An FSE decoding table: per state, its symbol, bits to read and the base of the next state. */
export interface Fse {
  log: number;
  sym: Uint8Array;
  bits: Uint8Array;
  base: Uint16Array;
}

export function buildFse(norm: number[], log: number): Fse {
  const size = 1 << log;
  const sym = new Uint8Array(size);
  const bits = new Uint8Array(size);
  const base = new Uint16Array(size);
  const next = new Array<number>(norm.length).fill(0);
  let high = size - 1;
  norm.forEach((p, s) => {
    if (p === -1) {
      sym[high--] = s;
      next[s] = 1;
    } else next[s] = p;
  });
  const step = (size >> 1) + (size >> 3) + 3;
  let pos = 0;
  norm.forEach((p, s) => {
    for (let i = 0; i < p; i++) {
      sym[pos] = s;
      do pos = (pos + step) & (size - 1);
      while (pos > high);
    }
  });
  if (pos !== 0) fail('a bad FSE table');
  for (let u = 0; u < size; u++) {
    const s = sym[u] ?? 0;
    const n = next[s] ?? 0;
    next[s] = n + 1;
    bits[u] = log - highbit(n);
    base[u] = (n << (bits[u] ?? 0)) - size;
  }
  return { log, sym, bits, base };
}

/** An FSE table description (forward bits from `at`); returns the table and the bytes it took. */
export function readFse(b: Uint8Array, at: number, maxLog: number, maxSym: number): { fse: Fse; len: number } {
  let pos = 0;
  const read = (n: number): number => bitsAt(b, at, pos, n);
  const log = read(4) + 5;
  pos += 4;
  if (log > maxLog) fail('an FSE accuracy too large');
  let remaining = (1 << log) + 1;
  let threshold = 1 << log;
  let nbBits = log + 1;
  const norm: number[] = [];
  while (remaining > 1 && norm.length <= maxSym) {
    const max = 2 * threshold - 1 - remaining;
    let count: number;
    if (read(nbBits - 1) < max) {
      count = read(nbBits - 1);
      pos += nbBits - 1;
    } else {
      count = read(nbBits);
      if (count >= threshold) count -= max;
      pos += nbBits;
    }
    count--;
    remaining -= Math.abs(count);
    norm.push(count);
    if (count === 0) {
      for (;;) {
        const rep = read(2);
        pos += 2;
        for (let i = 0; i < rep; i++) norm.push(0);
        if (rep !== 3) break;
      }
    }
    while (remaining < threshold) {
      nbBits--;
      threshold >>= 1;
    }
  }
  if (remaining !== 1 || norm.length > maxSym + 1) fail('a bad FSE table description');
  return { fse: buildFse(norm, log), len: Math.ceil(pos / 8) };
}

export const rle = (s: number): Fse => ({ log: 0, sym: new Uint8Array([s]), bits: new Uint8Array(1), base: new Uint16Array(1) });

// The predefined distributions and the length codes' baselines and extra bits (RFC 8878 3.1.1.3.2).
const LL_NORM = [4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1];
const ML_NORM = [1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1];
const OF_NORM = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1];
export const LL_BITS = [...new Array<number>(16).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
export const ML_BITS = [...new Array<number>(32).fill(0), 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const baseOf = (bits: number[], first: number): number[] => {
  const out: number[] = [];
  let v = first;
  for (const n of bits) {
    out.push(v);
    v += 2 ** n;
  }
  return out;
};
export const LL_BASE = baseOf(LL_BITS, 0);
export const ML_BASE = baseOf(ML_BITS, 3);
export const PREDEFINED = { ll: buildFse(LL_NORM, 6), ml: buildFse(ML_NORM, 6), of: buildFse(OF_NORM, 5) };

/** A Huffman decoding table over `log` bits. */
export interface Huff {
  log: number;
  sym: Uint8Array;
  bits: Uint8Array;
}

export function readHuffman(b: Uint8Array, at: number): { huff: Huff; len: number } {
  const hb = b[at] ?? fail('truncated');
  const weights: number[] = [];
  let len: number;
  if (hb >= 128) {
    const n = hb - 127;
    len = 1 + Math.ceil(n / 2);
    for (let i = 0; i < n; i++) weights.push(((b[at + 1 + (i >> 1)] ?? 0) >> (i % 2 === 0 ? 4 : 0)) & 15);
  } else {
    len = 1 + hb;
    const { fse, len: tl } = readFse(b, at + 1, 6, 255);
    const s = new BackBits(b, at + 1 + tl, hb - tl);
    let s1 = s.read(fse.log);
    let s2 = s.read(fse.log);
    const step = (st: number): number => (fse.base[st] ?? 0) + s.read(fse.bits[st] ?? 0);
    for (;;) {
      if (weights.length > 255) fail('too many Huffman weights');
      weights.push(fse.sym[s1] ?? 0);
      s1 = step(s1);
      if (s.pos < 0) {
        weights.push(fse.sym[s2] ?? 0);
        break;
      }
      weights.push(fse.sym[s2] ?? 0);
      s2 = step(s2);
      if (s.pos < 0) {
        weights.push(fse.sym[s1] ?? 0);
        break;
      }
    }
  }
  let sum = 0;
  for (const w of weights) if (w > 0) sum += 1 << (w - 1);
  if (sum === 0) fail('an empty Huffman table');
  const log = highbit(sum) + 1;
  const rest = (1 << log) - sum;
  if (rest & (rest - 1)) fail('a bad Huffman table');
  weights.push(highbit(rest) + 1);
  if (log > 11) fail('a Huffman table too deep');
  const counts = new Array<number>(log + 1).fill(0);
  for (const w of weights) counts[w] = (counts[w] ?? 0) + 1;
  const start = new Array<number>(log + 2).fill(0);
  for (let w = 1, next = 0; w <= log; w++) {
    start[w] = next;
    next += (counts[w] ?? 0) << (w - 1);
  }
  const size = 1 << log;
  const sym = new Uint8Array(size);
  const bits = new Uint8Array(size);
  weights.forEach((w, s) => {
    if (w === 0) return;
    const from = start[w] ?? 0;
    const n = (1 << w) >> 1;
    sym.fill(s, from, from + n);
    bits.fill(log + 1 - w, from, from + n);
    start[w] = from + n;
  });
  return { huff: { log, sym, bits }, len };
}

export function huffStream(b: Uint8Array, at: number, len: number, h: Huff, out: Uint8Array, from: number, n: number): void {
  const s = new BackBits(b, at, len);
  for (let i = 0; i < n; i++) {
    const k = s.peek(h.log);
    out[from + i] = h.sym[k] ?? 0;
    s.pos -= h.bits[k] ?? 0;
  }
  if (s.pos !== 0) fail('a Huffman stream of the wrong length');
}

