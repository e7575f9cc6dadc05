import { fromBase64, fromUtf8, toBase64Url, utf8 } from '../util/base64.ts';

/** What the session cookie carries: the user (null = anonymous), its expiry, the CSRF nonce, its id, and the password it was opened under. */
export interface Session {
  user: string | null;
  exp: number;
  csrf: string;
  sid: string;
  /** A fingerprint of the user's password hash at login: a new password ends every older session. */
  pwd?: string;
}

/** What makes a session end before its expiry: logout (its id revoked), a password change, the user's removal. */
export interface SessionChecks {
  /** The fingerprint of a user's current password hash; null when there is no such user any more. */
  fingerprint(user: string): string | null;
  revoked: { has(sid: string): Promise<boolean>; add(sid: string, exp: number): Promise<void> };
}

export const COOKIE = 'br_session';
/** A login lasts this long; an anonymous session (it only carries the CSRF nonce) too. */
const LIFETIME_MS = 8 * 3_600_000;

/**
 * Signed session cookies for the web UI: `payload.hmac`, HMAC-SHA256 under a key of the server's
 * (derived from the token secret, or random per process when there is none). Nothing secret is in
 * the payload; the signature is what makes the user name trustworthy. The CSRF nonce lives in the
 * same signed payload and every state-changing form repeats it (synchronizer token).
 */
export class Sessions {
  private readonly key: ReturnType<typeof crypto.subtle.importKey>;

  constructor(
    secret: Uint8Array,
    private readonly now: () => number,
    private readonly checks?: SessionChecks,
  ) {
    const material = secret.byteLength >= 16 ? secret : crypto.getRandomValues(new Uint8Array(32));
    // A key of its own, so a cookie can never be replayed as a registry token or the reverse.
    const derived = crypto.subtle.digest('SHA-256', new Uint8Array([...utf8('binaryrepo-ui-session:'), ...material]));
    this.key = derived.then((k) => crypto.subtle.importKey('raw', k, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']));
  }

  fresh(user: string | null): Session {
    const pwd = user !== null ? this.checks?.fingerprint(user) : undefined;
    return { user, exp: this.now() + LIFETIME_MS, csrf: toBase64Url(crypto.getRandomValues(new Uint8Array(18))), sid: toBase64Url(crypto.getRandomValues(new Uint8Array(16))), ...(pwd ? { pwd } : {}) };
  }

  /** Logout: this session is refused from now on, by every replica (the revocation is in the store). */
  async revoke(s: Session): Promise<void> {
    if (s.user !== null) await this.checks?.revoked.add(s.sid, s.exp);
  }

  async seal(s: Session): Promise<string> {
    const payload = toBase64Url(JSON.stringify(s));
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await this.key, utf8(payload)));
    return `${payload}.${toBase64Url(mac)}`;
  }

  /** The session in a Cookie header, or null (absent, forged, expired, malformed). */
  async open(cookieHeader: string | null): Promise<Session | null> {
    const raw = readCookie(cookieHeader, COOKIE);
    if (!raw || raw.length > 2048) return null;
    const [payload = '', mac = ''] = raw.split('.', 2);
    const sig = fromBase64(mac);
    if (!sig || !(await crypto.subtle.verify('HMAC', await this.key, sig, utf8(payload)))) return null;
    const bytes = fromBase64(payload);
    let v: unknown;
    try {
      v = bytes ? JSON.parse(fromUtf8(bytes)) : null;
    } catch {
      return null;
    }
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    const user = o['user'];
    if ((user !== null && typeof user !== 'string') || typeof o['exp'] !== 'number' || typeof o['csrf'] !== 'string' || typeof o['sid'] !== 'string') return null;
    if (o['exp'] < this.now()) return null;
    const pwd = typeof o['pwd'] === 'string' ? o['pwd'] : undefined;
    if (user !== null && this.checks) {
      // A password changed or the user removed (config reloaded): every session opened before ends.
      const want = this.checks.fingerprint(user);
      if (want === null || want !== pwd) return null;
      if (await this.checks.revoked.has(o['sid'])) return null;
    }
    return { user, exp: o['exp'], csrf: o['csrf'], sid: o['sid'], ...(pwd ? { pwd } : {}) };
  }
}

/** Set-Cookie for a session: HttpOnly, SameSite=Strict, Secure when the client came over TLS. */
export function sessionCookie(value: string, secure: boolean, maxAgeS = LIFETIME_MS / 1000): string {
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`;
}

export function readCookie(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return null;
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
