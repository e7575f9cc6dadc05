/** XXH64 (seed 0), the zstd frame checksum: BigInt arithmetic, slow but the inputs here are bounded and small. */
const M = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;
const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M;
const round = (acc: bigint, v: bigint): bigint => (rotl((acc + v * P2) & M, 31n) * P1) & M;
const merge = (acc: bigint, v: bigint): bigint => (((acc ^ round(0n, v)) * P1) + P4) & M;

/** The low 32 bits of XXH64 of the bytes (what a zstd frame stores). */
export function xxh64low(b: Uint8Array): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u64 = (i: number): bigint => dv.getBigUint64(i, true);
  let i = 0;
  let h: bigint;
  if (b.byteLength >= 32) {
    let v1 = (P1 + P2) & M;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (M + 1n - P1) & M;
    for (; i + 32 <= b.byteLength; i += 32) {
      v1 = round(v1, u64(i));
      v2 = round(v2, u64(i + 8));
      v3 = round(v3, u64(i + 16));
      v4 = round(v4, u64(i + 24));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = P5;
  h = (h + BigInt(b.byteLength)) & M;
  for (; i + 8 <= b.byteLength; i += 8) h = ((rotl(h ^ round(0n, u64(i)), 27n) * P1) + P4) & M;
  if (i + 4 <= b.byteLength) {
    h = ((rotl(h ^ ((BigInt(dv.getUint32(i, true)) * P1) & M), 23n) * P2) + P3) & M;
    i += 4;
  }
  for (; i < b.byteLength; i++) h = (rotl(h ^ ((BigInt(b[i] ?? 0) * P5) & M), 11n) * P1) & M;
  h ^= h >> 33n;
  h = (h * P2) & M;
  h ^= h >> 29n;
  h = (h * P3) & M;
  h ^= h >> 32n;
  return Number(h & 0xffffffffn);
}
