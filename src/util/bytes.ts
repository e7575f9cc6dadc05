/** Joins chunks into one array of `total` bytes (one copy). */
export function concat(parts: Uint8Array[], total = parts.reduce((a, p) => a + p.byteLength, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
