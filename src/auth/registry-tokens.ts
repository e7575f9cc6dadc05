import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import { utf8 } from '../util/base64.ts';
import type { Action, Principal, ResolvedScope } from './principal.ts';
import { signToken, verifyToken } from './token.ts';
import type { AccessEntry } from './token.ts';

type Auth = NonNullable<Config['auth']>;

export interface RegistryTokenDeps {
  auth: () => Auth | undefined;
  user: (name: string) => Auth['users'][string] | undefined;
  /** Whether a token for this caller may carry `action` on `repo` (live permission, access token scope). */
  mayIssue: (p: Pick<Principal, 'user' | 'token'>, repo: string, action: Action) => boolean;
  secret: Uint8Array;
  now: () => number;
}

const REFRESH_AUDIENCE = '#refresh';
/** A short fingerprint of a password hash: refresh tokens and UI sessions die when it changes. */
export const fingerprint = (passwordHash: string): string => createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22);

/** The token flow's tokens (Docker Registry v2 token auth): access tokens per scope, refresh tokens per password. */
export class RegistryTokens {
  constructor(private readonly d: RegistryTokenDeps) {}

  /**
   * A refresh token (the spec's offline token; `docker login` stores it as an identity token in
   * place of the password). Its audience differs from access tokens, so it is never accepted as a
   * bearer token, and it dies with the password it was issued under.
   */
  issueRefresh(user: string): string {
    const auth = this.d.auth();
    const entry = this.d.user(user);
    if (!auth || !entry) throw new Error('refresh token for an unknown user');
    const now = Math.floor(this.d.now() / 1000);
    const claims = { iss: auth.issuer, sub: user, aud: `${auth.service}${REFRESH_AUDIENCE}`, exp: now + auth.refreshTokenTtlSeconds, nbf: now, iat: now };
    return signToken({ ...claims, jti: randomUUID(), access: [], pwd: fingerprint(entry.passwordHash) }, this.d.secret);
  }

  /** The user a refresh token was issued to, while the user exists with the same password; else null. */
  checkRefresh(token: string): string | null {
    const auth = this.d.auth();
    if (!auth) return null;
    const claims = verifyToken(token, this.d.secret, Math.floor(this.d.now() / 1000), { iss: auth.issuer, aud: `${auth.service}${REFRESH_AUDIENCE}` });
    const entry = claims ? this.d.user(claims.sub) : undefined;
    if (!claims || !entry || claims.pwd === undefined) return null;
    const want = utf8(fingerprint(entry.passwordHash));
    const got = utf8(claims.pwd);
    return got.length === want.length && timingSafeEqual(got, want) ? claims.sub : null;
  }

  /**
   * A registry token for the actions of each scope this caller may do; what is not allowed is left
   * out. Logged in with an access token: only what its scope allows, and the registry token names it
   * (so it dies when the access token is revoked).
   */
  issue(p: Pick<Principal, 'user' | 'token'>, scopes: ResolvedScope[]): { token: string; expiresIn: number; issuedAt: string } {
    const user = p.user;
    const auth = this.d.auth();
    if (!auth) throw new Error('token requested while authentication is off');
    const now = Math.floor(this.d.now() / 1000);
    const access: AccessEntry[] = [];
    for (const s of scopes) {
      const wanted = s.actions.includes('*') ? ['pull', 'push', 'delete'] : s.actions;
      const actions = (['pull', 'push', 'delete'] as const).filter((a) => wanted.includes(a) && this.d.mayIssue(p, s.repo, a));
      if (actions.length > 0) access.push({ type: 'repository', name: `${s.repo}/${s.image}`, actions });
    }
    const exp = now + auth.tokenTtlSeconds;
    const token = signToken(
      { iss: auth.issuer, sub: user ?? '', aud: auth.service, exp, nbf: now, iat: now, jti: randomUUID(), access, ...(p.token ? { tok: p.token } : {}) },
      this.d.secret,
    );
    return { token, expiresIn: auth.tokenTtlSeconds, issuedAt: new Date(now * 1000).toISOString() };
  }
}
