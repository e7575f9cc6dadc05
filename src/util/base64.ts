/**
 * base64 and base64url without Node's Buffer: the core runs on Node, Bun and Deno alike, and
 * `atob`/`btoa` are what all three share. Decoding is lenient about padding, strict about alphabet.
 */
const encoder = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

export function toBase64(bytes: Uint8Array | string): string {
  const b = typeof bytes === 'string' ? utf8(bytes) : bytes;
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function toBase64Url(bytes: Uint8Array | string): string {
  return toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** null for text that is not base64 (either alphabet). */
export function fromBase64(text: string): Uint8Array | null {
  const std = text.trim().replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(std)) return null;
  const padded = std.replace(/=+$/, '') + '='.repeat((4 - (std.replace(/=+$/, '').length % 4)) % 4);
  try {
    const bin = atob(padded);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
