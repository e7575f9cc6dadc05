import { createHash } from 'node:crypto';
import { fromBase64 } from '../../../util/base64.ts';

/**
 * Signed notes (golang.org/x/mod/sumdb/note) as a checksum database signs its tree heads:
 *
 *     <text, ending in \n>
 *     \n
 *     — <name> <base64(4-byte key hash || ed25519 signature)>\n   (one line per signature)
 *
 * and verifier keys as GOSUMDB names them: `<name>+<8 hex key hash>+<base64(0x01 || 32-byte key)>`,
 * the key hash being the first 4 bytes of SHA-256(name || "\n" || 0x01 || key).
 */
export interface Verifier {
  name: string;
  keyHash: number;
  key: Awaited<ReturnType<typeof crypto.subtle.importKey>>;
}

const ED25519 = 1;
const MAX_NOTE = 1 << 20;

function keyHashOf(name: string, encoded: Uint8Array): number {
  const sum = createHash('sha256').update(new TextEncoder().encode(`${name}\n`)).update(encoded).digest();
  return new DataView(sum.buffer, sum.byteOffset, 4).getUint32(0);
}

/** `<name>+<hash>+<key>`; the key is base64 and may itself hold `+`. */
function splitKey(text: string): [string, string, string] | null {
  const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(text);
  return m ? [m[1] ?? '', m[2] ?? '', m[3] ?? ''] : null;
}

/** Checks a verifier key's shape and hash; returns why it is wrong, or null (config validation). */
export function verifierKeyProblem(text: string): string | null {
  const parts = splitKey(text);
  if (!parts) return 'must be <name>+<hash>+<key> as GOSUMDB names it';
  const [name, hash, key] = parts;
  if (!name || /\s/.test(name)) return 'has an empty name or one with spaces';
  if (!/^[0-9a-f]{8}$/.test(hash)) return 'key hash must be 8 lower-case hex digits';
  const encoded = fromBase64(key);
  if (!encoded || encoded.byteLength !== 33 || encoded[0] !== ED25519) return 'key must be base64 of 0x01 and a 32-byte Ed25519 public key';
  if (keyHashOf(name, encoded) !== parseInt(hash, 16)) return 'key hash does not match the name and key';
  return null;
}

export async function parseVerifier(text: string): Promise<Verifier> {
  const problem = verifierKeyProblem(text);
  if (problem) throw new Error(`checksum database key ${problem}`);
  const [name, hash, key] = splitKey(text) as [string, string, string];
  const encoded = fromBase64(key) as Uint8Array;
  const raw = encoded.slice(1);
  const cryptoKey = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
  return { name, keyHash: parseInt(hash, 16), key: cryptoKey };
}

/**
 * The text of a note signed by `v`, or null when it is malformed or carries no valid signature of
 * v's (other signers' lines are ignored, as the go command ignores unknown keys).
 */
export async function openNote(bytes: Uint8Array, v: Verifier): Promise<string | null> {
  if (bytes.byteLength > MAX_NOTE) return null;
  let msg: string;
  try {
    msg = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const split = msg.lastIndexOf('\n\n');
  if (split < 0 || !msg.endsWith('\n')) return null;
  const text = msg.slice(0, split + 1);
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) return null;
  const signed = new TextEncoder().encode(text);
  for (const line of msg.slice(split + 2, -1).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) return null;
    if (m[1] !== v.name) continue;
    const sig = fromBase64(m[2] ?? '');
    if (!sig || sig.byteLength !== 68) continue;
    if (new DataView(sig.buffer, sig.byteOffset, 4).getUint32(0) !== v.keyHash) continue;
    if (await crypto.subtle.verify({ name: 'Ed25519' }, v.key, sig.slice(4), signed)) return text;
  }
  return null;
}
