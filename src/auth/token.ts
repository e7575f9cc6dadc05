import { createHmac, timingSafeEqual } from 'node:crypto';
import { fromBase64, fromUtf8, toBase64Url } from '../util/base64.ts';

/** One grant of a token: a resolved `<repo>/<image>` and the actions allowed on it. */
export interface AccessEntry {
  type: 'repository';
  name: string;
  actions: string[];
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
  /** Refresh tokens only: a fingerprint of the password hash they were issued under. */
  pwd?: string;
  /** Minted with an access token: its id and scope (the registry token dies with it, and never exceeds it). */
  tok?: { id: string; name: string; repos: string[]; actions: Array<'read' | 'write' | 'delete' | 'admin'> };
}

const b64 = toBase64Url;
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * Registry tokens as JWTs (RFC 7519) signed with HMAC-SHA256. The issuer and the verifier are
 * the same server, so a shared secret does what the CNCF registry's x5c certificate chain does for
 * a separate token service, with one key to manage instead of a PKI.
 */
export function signToken(claims: TokenClaims, secret: Uint8Array): string {
  const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The claims when signature, algorithm, audience, issuer and lifetime all check out; else null. */
export function verifyToken(token: string, secret: Uint8Array, nowSec: number, expect: { iss: string; aud: string }): TokenClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3 || token.length > 16384) return null;
  const [h, p, sig] = parts as [string, string, string];
  const want = createHmac('sha256', secret).update(`${h}.${p}`).digest();
  const got = fromBase64(sig);
  if (!got || got.length !== want.length || !timingSafeEqual(got, want)) return null;
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(fromUtf8(fromBase64(h) ?? new Uint8Array(0)));
    claims = JSON.parse(fromUtf8(fromBase64(p) ?? new Uint8Array(0)));
  } catch {
    return null;
  }
  if ((header as { alg?: unknown }).alg !== 'HS256') return null;
  const c = claims as Partial<TokenClaims>;
  if (c.iss !== expect.iss || c.aud !== expect.aud || typeof c.exp !== 'number' || typeof c.sub !== 'string') return null;
  // A little leeway for clocks of replicas that share the secret.
  if (c.exp <= nowSec || (typeof c.nbf === 'number' && c.nbf > nowSec + 30)) return null;
  if (!Array.isArray(c.access)) return null;
  if (c.tok !== undefined && (typeof c.tok !== 'object' || c.tok === null || typeof c.tok.id !== 'string' || !Array.isArray(c.tok.repos) || !Array.isArray(c.tok.actions))) return null;
  return c as TokenClaims;
}
