/**
 * One path segment as a storage-key segment: [A-Za-z0-9.+-] stay, everything else (and a leading
 * dot) becomes `_` + two hex digits per UTF-8 byte. An encoded segment therefore never starts with
 * `.`, and an `_` is always followed by two hex digits, so a format's own `_`-names (generic's `_f`, go's `_v`) cannot collide.
 */
export function encodeSegment(s: string): string {
  let out = '';
  const bytes = new TextEncoder().encode(s);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    const c = String.fromCharCode(b);
    // The storage driver's key segments start with [A-Za-z0-9_]: `.`, `+`, `-` only after the first.
    const plain = /[A-Za-z0-9]/.test(c) || (/[.+-]/.test(c) && i > 0);
    out += plain && b < 0x80 ? c : `_${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function decodeSegment(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '_') {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(s.charCodeAt(i));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
