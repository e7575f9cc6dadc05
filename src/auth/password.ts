import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { fromBase64, toBase64Url } from '../util/base64.ts';

/**
 * Password hashes for the config file: `scrypt$N=16384,r=8,p=1$<salt>$<hash>` (base64url). scrypt is
 * in node:crypto on Node, Bun and Deno alike, so no native dependency is needed.
 */
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LEN = 32;

function derive(password: string, salt: Uint8Array, N: number, r: number, p: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, { N, r, p, maxmem: 256 * N * r }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = new Uint8Array(randomBytes(16));
  const key = await derive(password, salt, PARAMS.N, PARAMS.r, PARAMS.p);
  return `scrypt$N=${PARAMS.N},r=${PARAMS.r},p=${PARAMS.p}$${toBase64Url(salt)}$${toBase64Url(key)}`;
}

/** False for a wrong password and for a hash this code cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (N < 2 || N > 1 << 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = fromBase64(m[5] ?? '');
  const salt = fromBase64(m[4] ?? '');
  if (!expected || !salt) return false;
  const got = await derive(password, salt, N, r, p);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

