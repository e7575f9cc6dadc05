/** CRC-32 (IEEE, reflected) and CRC-64/XZ (ECMA-182 reflected), as the xz container checks them. */

const CRC32 = new Uint32Array(256);
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC32[n] = c >>> 0;
  // CRC-64/XZ (ECMA-182 reflected, 0xC96C5795D7870F42) in two 32-bit halves.
  let lo = n;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const bit = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (bit) {
      lo = (lo ^ 0xd7870f42) >>> 0;
      hi = (hi ^ 0xc96c5795) >>> 0;
    }
  }
  CRC64_LO[n] = lo;
  CRC64_HI[n] = hi;
}

export function crc32(b: Uint8Array, from = 0, to = b.byteLength): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = (CRC32[(c ^ (b[i] ?? 0)) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function crc64(b: Uint8Array, to: number): [number, number] {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  for (let i = 0; i < to; i++) {
    const t = (lo ^ (b[i] ?? 0)) & 0xff;
    lo = ((CRC64_LO[t] ?? 0) ^ ((lo >>> 8) | (hi << 24))) >>> 0;
    hi = ((CRC64_HI[t] ?? 0) ^ (hi >>> 8)) >>> 0;
  }
  return [(lo ^ 0xffffffff) >>> 0, (hi ^ 0xffffffff) >>> 0];
}
