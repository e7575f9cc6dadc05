import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

/**
 * Content digests as the OCI image spec defines them: `algorithm:encoded`. We store and verify
 * sha256 (and accept sha512 where clients send it); anything else is refused as unsupported.
 */
export type DigestAlgorithm = 'sha256' | 'sha512';

export interface Digest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** Canonical `algorithm:hex` form. */
  value: string;
}

const GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const HEX_LEN: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

export type DigestParse = { ok: true; digest: Digest } | { ok: false; reason: 'invalid' | 'unsupported' };

export function parseDigest(s: string): DigestParse {
  if (s.length > 256 || !GRAMMAR.test(s)) return { ok: false, reason: 'invalid' };
  const i = s.indexOf(':');
  const algorithm = s.slice(0, i);
  const hex = s.slice(i + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') return { ok: false, reason: 'unsupported' };
  if (hex.length !== HEX_LEN[algorithm] || !/^[a-f0-9]+$/.test(hex)) return { ok: false, reason: 'invalid' };
  return { ok: true, digest: { algorithm, hex, value: `${algorithm}:${hex}` } };
}

/** Incremental hasher: feed chunks as they stream, read the digest at the end. */
export class Hasher {
  private readonly hash: Hash;
  constructor(readonly algorithm: DigestAlgorithm = 'sha256') {
    this.hash = createHash(algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  digest(): Digest {
    const hex = this.hash.digest('hex');
    return { algorithm: this.algorithm, hex, value: `${this.algorithm}:${hex}` };
  }
}

export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const h = new Hasher(algorithm);
  h.update(data);
  return h.digest();
}

/**
 * A checksum a format's index names besides the sha256 we store by (npm's `integrity` sha512 or
 * legacy sha1 `shasum`, Maven's .sha1/.md5 siblings): verified over the same bytes while they stream.
 */
export interface Checksum {
  algorithm: 'sha1' | 'sha256' | 'sha512' | 'md5';
  hex: string;
}

/** Incremental hash for a Checksum's algorithm. */
export class ChecksumHasher {
  private readonly hash: Hash;
  constructor(readonly want: Checksum) {
    this.hash = createHash(want.algorithm);
  }
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  /** What the bytes hashed to (once: the hash is finished). */
  hex(): string {
    return this.hash.digest('hex');
  }
  /** null when the bytes match, else what they hashed to. */
  mismatch(): string | null {
    const hex = this.hex();
    return hex === this.want.hex.toLowerCase() ? null : hex;
  }
}
