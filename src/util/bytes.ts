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

/** A size as people read it: 719 B, 8.3 KB, 3.0 MB (powers of 1000, as registries and browsers show). */
export function fmtBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** The bytes as UTF-8 text, or null when they are not valid UTF-8 (never a replacement character). */
export function utf8OrNull(b: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
}
