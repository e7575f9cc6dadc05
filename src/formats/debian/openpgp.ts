import { fromBase64, toBase64, utf8 } from '../../util/base64.ts';
import { concat } from '../../util/bytes.ts';

/**
 * The OpenPGP a signed apt repository needs (RFC 4880 v4 packets, Ed25519 as EdDSA with SHA-512
 * digests): one signing key with its user ID and self-signature, a clear-signed InRelease and a
 * detached Release.gpg. WebCrypto signs on Node, Bun and Deno alike. Signatures are deterministic
 * (Ed25519, a fixed creation time), so replicas sign one generation with identical bytes. SHA-1
 * appears only where v4 defines the fingerprint by it, never as a signature digest (apt 3's sqv
 * refuses SHA-1 signatures).
 */

/** A repo's key as stored: its creation time (seconds), the PKCS#8 private key and the raw public key, base64. */
export interface StoredKey {
  created: number;
  pkcs8: string;
  pub: string;
  uid: string;
}

type WebKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const ED25519_OID = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01];
const EDDSA = 22;
const SHA512 = 10;

const cat = (...parts: Array<Uint8Array | number[]>): Uint8Array => concat(parts.map((p) => (p instanceof Uint8Array ? p : new Uint8Array(p))));

const be = (n: number, bytes: number): number[] => Array.from({ length: bytes }, (_, i) => Math.floor(n / 2 ** (8 * (bytes - 1 - i))) & 0xff);

/** A new-format packet header and body. */
function packet(tag: number, body: Uint8Array): Uint8Array {
  const n = body.byteLength;
  const len = n < 192 ? [n] : n < 8384 ? [((n - 192) >> 8) + 192, (n - 192) & 0xff] : [0xff, ...be(n, 4)];
  return cat([0xc0 | tag], len, body);
}

function mpi(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  const bits = (v.length - 1) * 8 + (v[0] ? 32 - Math.clz32(v[0]) : 0);
  return cat(be(bits, 2), v);
}

const sub = (type: number, data: number[] | Uint8Array): Uint8Array => cat([data.length + 1, type], data);

async function digest(alg: 'SHA-1' | 'SHA-512', data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(alg, data));
}

/** A generated key, ready to store. */
export async function generateKey(uid: string, nowSeconds: number): Promise<StoredKey> {
  const k = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as { privateKey: WebKey; publicKey: WebKey };
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', k.privateKey));
  const pub = new Uint8Array(await crypto.subtle.exportKey('raw', k.publicKey));
  return { created: nowSeconds, pkcs8: toBase64(pkcs8), pub: toBase64(pub), uid };
}

/** A key ready to sign with: its packets, fingerprint and WebCrypto private key. */
export class SigningKey {
  private constructor(
    private readonly priv: WebKey,
    readonly keyBody: Uint8Array,
    readonly fingerprint: Uint8Array,
    private readonly uid: string,
    private readonly created: number,
  ) {}

  static async load(k: StoredKey): Promise<SigningKey> {
    const pkcs8 = fromBase64(k.pkcs8);
    const pub = fromBase64(k.pub);
    if (!pkcs8 || !pub || pub.byteLength !== 32) throw new Error('the stored signing key is damaged');
    const priv = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, false, ['sign']);
    const body = cat([4], be(k.created, 4), [EDDSA, ED25519_OID.length], ED25519_OID, mpi(cat([0x40], pub)));
    const fp = await digest('SHA-1', cat([0x99], be(body.byteLength, 2), body));
    return new SigningKey(priv, body, fp, k.uid, k.created);
  }

  get fingerprintHex(): string {
    return [...this.fingerprint].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  }

  /** A v4 signature packet of `type` over `data` (what precedes the signature's own fields in the hash). */
  private async signature(type: number, data: Uint8Array, at: number, extra: Uint8Array[] = []): Promise<Uint8Array> {
    const hashed = cat(sub(2, be(at, 4)), sub(33, cat([4], this.fingerprint)), ...extra);
    const head = cat([4, type, EDDSA, SHA512], be(hashed.byteLength, 2), hashed);
    const h = await digest('SHA-512', cat(data, head, [4, 0xff], be(head.byteLength, 4)));
    const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, this.priv, h));
    const unhashed = sub(16, this.fingerprint.subarray(12));
    return packet(2, cat(head, be(unhashed.byteLength, 2), unhashed, h.subarray(0, 2), mpi(sig.subarray(0, 32)), mpi(sig.subarray(32))));
  }

  /** The public key as a transferable key (key, user ID, positive self-certification), binary. */
  async publicKey(): Promise<Uint8Array> {
    const uid = utf8(this.uid);
    const data = cat([0x99], be(this.keyBody.byteLength, 2), this.keyBody, [0xb4], be(uid.byteLength, 4), uid);
    // Key flags: certify and sign; preferred hashes: SHA-512, SHA-256.
    const self = await this.signature(0x13, data, this.created, [sub(27, [0x03]), sub(21, [SHA512, 8])]);
    return cat(packet(6, this.keyBody), packet(13, uid), self);
  }

  /** A detached binary-document signature (Release.gpg), armored. */
  async detached(data: Uint8Array, at: number): Promise<string> {
    return armor('SIGNATURE', await this.signature(0x00, data, at));
  }

  /** A clear-signed text (InRelease): the text, dash-escaped, and a canonical-text signature. */
  async clearSign(text: string, at: number): Promise<string> {
    const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
    const canonical = utf8(lines.map((l) => l.replace(/[ \t]+$/, '')).join('\r\n'));
    const sig = await this.signature(0x01, canonical, at);
    const body = lines.map((l) => (l.startsWith('-') ? `- ${l}` : l)).join('\n');
    return `-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n${body}\n${armor('SIGNATURE', sig)}`;
  }
}

function crc24(b: Uint8Array): number {
  let crc = 0xb704ce;
  for (const x of b) {
    crc ^= x << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

export function armor(kind: 'SIGNATURE' | 'PUBLIC KEY BLOCK', b: Uint8Array): string {
  const text = toBase64(b).replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PGP ${kind}-----\n\n${text}\n=${toBase64(new Uint8Array(be(crc24(b), 3)))}\n-----END PGP ${kind}-----\n`;
}
