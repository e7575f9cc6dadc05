import { createHash, randomBytes } from 'node:crypto';
import type { Config, RepoConfig } from '../config/schema.ts';
import { fromBase64, fromUtf8, toBase64Url } from '../util/base64.ts';
import { isAccessToken, tokenAllows } from './access-tokens.ts';
import type { AccessTokenDoc, AccessTokens } from './access-tokens.ts';
import type { CliLogins } from './cli-logins.ts';
import { LoginGuard } from './login-guard.ts';
import type { LoginLimits } from './login-guard.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { RegistryTokens, fingerprint } from './registry-tokens.ts';
import { PERMISSION } from './principal.ts';
import type { Action, Denial, Principal, Resource } from './principal.ts';
import { verifyToken } from './token.ts';

export type { Action, Denial, Principal, Resource, ResolvedScope } from './principal.ts';

const DEFAULT_PERMISSIONS = { read: ['authenticated'], write: [] as string[], delete: [] as string[] };
const BASIC_CACHE_MS = 60_000;

/**
 * Users, permissions and tokens. Passwords are checked against scrypt hashes; a good Basic header
 * is remembered for a minute (by its sha256) so registries pulling 50 layers do not run scrypt 50
 * times. Permissions are read live from the config on every request, tokens only narrow them.
 */
export class AccessControl {
  private repos: Map<string, RepoConfig>;
  private readonly basicOk = new Map<string, { user: string; until: number }>();
  private cfg: Pick<Config, 'auth'>;
  private readonly guard: LoginGuard;
  /** A hash of a random password: unknown users cost the same scrypt work as known ones. */
  private dummy: Promise<string> | undefined;
  private issuer: RegistryTokens | undefined;

  constructor(
    cfg: Config,
    private readonly secret: Uint8Array,
    private readonly now: () => number,
    /** Access tokens (absent: none are accepted, e.g. in tests of the password path alone). */
    readonly tokens?: AccessTokens,
    /** Logins a command line starts and the web UI finishes (npm login's web flow). */
    readonly logins?: CliLogins,
  ) {
    this.cfg = { auth: cfg.auth };
    this.repos = new Map(cfg.repos.map((r) => [r.name, r]));
    this.guard = new LoginGuard(loginLimits(cfg), now);
  }

  /**
   * Takes users, admins, token lifetime and per-repo permissions from a config read again (SIGHUP):
   * a password change or a revoked user holds from the next request, without a restart. What
   * shapes the running server (repos, the token signer) is kept; the returned notes say what was.
   */
  reload(next: Config): string[] {
    const notes: string[] = [];
    const cur = this.cfg.auth;
    const nxt = next.auth;
    if ((cur === undefined) !== (nxt === undefined)) {
      notes.push('turning authentication on or off needs a restart; auth left as it was');
    } else if (cur && nxt) {
      if (cur.service !== nxt.service || cur.issuer !== nxt.issuer || cur.tokenSecret !== nxt.tokenSecret) {
        notes.push('auth.service, auth.issuer and auth.tokenSecret need a restart; kept as they were');
      }
      // The signing key was fixed at start (tokens verify against it); service and issuer are in them.
      this.cfg = { auth: { ...nxt, service: cur.service, issuer: cur.issuer } };
    }
    const repos = new Map<string, RepoConfig>();
    for (const [name, old] of this.repos) {
      const fresh = next.repos.find((r) => r.name === name);
      if (!fresh) notes.push(`repo ${name} is gone from the config; removing a repo needs a restart`);
      repos.set(name, fresh ? withPermissions(old, fresh.permissions) : old);
    }
    for (const r of next.repos) if (!this.repos.has(r.name)) notes.push(`repo ${r.name} is new; adding a repo needs a restart`);
    this.repos = repos;
    this.guard.setLimits(loginLimits(next));
    // Basic credentials remembered under the old passwords must be checked again.
    this.basicOk.clear();
    return notes;
  }

  /** A configured user (own properties only: a name like `constructor` is nobody). */
  private user(name: string): NonNullable<Config['auth']>['users'][string] | undefined {
    const users = this.cfg.auth?.users;
    return users && Object.hasOwn(users, name) ? users[name] : undefined;
  }

  /** A fingerprint of the user's password hash (UI sessions end when it changes); null for no such user. */
  passwordFingerprint(name: string): string | null {
    const entry = this.user(name);
    return entry ? fingerprint(entry.passwordHash) : null;
  }

  /** Whether a user of that name is configured. */
  knows(name: string): boolean {
    return this.user(name) !== undefined;
  }

  /** Password hashes computed (a metric, and what proves unknown users cost the same). */
  get passwordChecks(): number {
    return this.guard.checksRun;
  }

  get enabled(): boolean {
    return this.cfg.auth !== undefined;
  }

  get service(): string {
    return this.cfg.auth?.service ?? 'binaryrepo';
  }

  /**
   * 'invalid' = credentials were sent and are wrong (never silently treated as anonymous). Throws
   * rate_limited when the address or user has failed too often (see LoginGuard).
   */
  async identify(authorization: string | null, address = ''): Promise<Principal | 'invalid'> {
    if (!authorization) return { user: null, via: 'none' };
    // Cargo sends its token as the whole header, without a scheme.
    if (isAccessToken(authorization.trim())) return this.byAccessToken(authorization.trim(), address);
    const [scheme, value = ''] = authorization.trim().split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'basic') {
      // pip, Maven, Helm, twine (`__token__`) and the go command send an access token as the password, any user name.
      const password = basicPassword(value);
      if (password !== null && isAccessToken(password)) return this.byAccessToken(password, address);
      const user = await this.checkBasic(value, address);
      return user === null ? 'invalid' : { user, via: 'basic' };
    }
    if (scheme?.toLowerCase() === 'bearer') {
      if (isAccessToken(value)) return this.byAccessToken(value, address);
      const auth = this.cfg.auth;
      const claims = auth ? verifyToken(value, this.secret, Math.floor(this.now() / 1000), { iss: auth.issuer, aud: auth.service }) : null;
      if (!claims) return 'invalid';
      if (claims.sub !== '' && !this.user(claims.sub)) return 'invalid';
      // A registry token minted with an access token dies with it, and never reaches past its scope.
      if (claims.tok !== undefined && !(this.tokens && (await this.tokens.alive(claims.tok.id)))) return 'invalid';
      return { user: claims.sub === '' ? null : claims.sub, via: 'bearer', grants: claims.access, ...(claims.tok ? { token: claims.tok } : {}) };
    }
    return 'invalid';
  }

  /** An access token's principal: its owner, while the owner exists; failures count as failed logins. */
  private async byAccessToken(token: string, address: string): Promise<Principal | 'invalid'> {
    if (!this.enabled || !this.tokens) return 'invalid';
    const tokens = this.tokens;
    let doc: AccessTokenDoc | null = null;
    const ok = await this.guard.check(address, `token:${token.slice(4, 20)}`, async () => {
      doc = await tokens.verify(token);
      return doc !== null;
    });
    const d = doc as AccessTokenDoc | null;
    if (!ok || !d || !this.user(d.user)) return 'invalid';
    return { user: d.user, via: 'token', token: { id: d.id, name: d.name, repos: d.repos, actions: d.actions } };
  }

  /** The user for a Basic header value (base64 of user:password), or null. */
  async checkBasic(value: string, address = ''): Promise<string | null> {
    const key = createHash('sha256').update(value).digest('hex');
    const hit = this.basicOk.get(key);
    if (hit && hit.until > this.now()) return hit.user;
    const bytes = value.length <= 4096 ? fromBase64(value) : null;
    const decoded = bytes ? fromUtf8(bytes) : '';
    const i = decoded.indexOf(':');
    if (i < 0) return null;
    const user = decoded.slice(0, i);
    const entry = this.user(user);
    // Unknown users are checked against a dummy hash: the same work, so timing reveals nothing.
    const hash = entry?.passwordHash ?? (await (this.dummy ??= hashPassword(toBase64Url(new Uint8Array(randomBytes(18))))));
    const ok = await this.guard.check(address, user, () => verifyPassword(decoded.slice(i + 1), hash));
    if (!entry || !ok) return null;
    if (this.basicOk.size > 1000) this.basicOk.clear();
    this.basicOk.set(key, { user, until: this.now() + BASIC_CACHE_MS });
    return user;
  }

  /** May run gc, eviction, retention and warm-ups (the admin API and pages). Everyone, without auth. */
  isAdmin(user: string | null): boolean {
    return !this.enabled || (user !== null && this.user(user)?.admin === true);
  }

  /** The live permission check: config permissions, admins, and a virtual repo's deployTo for writes. */
  can(user: string | null, repoName: string, action: Action): boolean {
    if (!this.enabled) return true;
    const repo = this.repos.get(repoName);
    if (!repo) return false;
    if (user !== null && this.user(user)?.admin) return true;
    const perms = repo.permissions ?? DEFAULT_PERMISSIONS;
    const allowed = (list: string[]): boolean =>
      list.includes('anonymous') || (user !== null && (list.includes('authenticated') || list.includes(user)));
    const need = PERMISSION[action];
    // Whoever may push or delete may also pull what they pushed.
    const ok = need === 'read' ? allowed(perms.read) || allowed(perms.write) || allowed(perms.delete) : allowed(perms[need]);
    if (ok && action !== 'pull' && repo.type === 'virtual' && repo.deployTo) return this.can(user, repo.deployTo, action);
    return ok;
  }

  /**
   * The one access decision for every path (every format, the UI's repo pages, the admin API's
   * repo reads): null = go on. A password or session gets the user's live permissions; an access
   * token those within its scope; a registry token only the Docker scopes it names (`resource` an
   * image; a `listing`, such as the catalog, needs only the live read). Never more than the owner
   * may do now: a lost permission is lost in every token at once.
   */
  authorize(p: Principal | 'invalid', repo: string, action: Action, resource?: Resource): Denial | null {
    if (!this.enabled) return null;
    if (p === 'invalid') return { status: 401, message: 'authentication failed', error: 'invalid_token' };
    const live = this.can(p.user, repo, action);
    const what = resource?.kind === 'image' ? resource.name : `in ${repo}`;
    const scoped = p.token === undefined || tokenAllows(p.token, repo, PERMISSION[action]);
    if (p.via === 'bearer') {
      const granted = resource?.kind === 'listing' || (resource?.kind === 'image' && p.grants?.some((g) => g.name === `${repo}/${resource.name}` && g.actions.includes(action)) === true);
      if (granted && live && scoped) return null;
      if (!granted && (live || p.user === null)) return { status: 401, message: resource ? 'token does not grant this access' : 'a registry token is good only for the registry scopes it names', error: 'insufficient_scope' };
      return this.refuse(p, repo, `${p.user ?? 'anonymous'} may not ${action} ${what}`);
    }
    if (live && scoped) return null;
    if (p.via === 'token' && live) return { status: 403, message: `access token ${JSON.stringify(p.token?.name ?? '')} does not allow ${action} ${what}` };
    return this.refuse(p, repo, `${p.user ?? 'anonymous'} may not ${action} ${what}`);
  }

  /**
   * Whether the caller's user may read a member of a virtual repo the caller was already let into
   * (authorize on the virtual). The member check is the user's live read: a token's scope names the
   * repos a client addresses, and a virtual's members are how that repo answers, not repos of their own.
   */
  mayRead(p: Principal | 'invalid', repo: string): boolean {
    return p !== 'invalid' && this.can(p.user, repo, 'pull');
  }

  /** Any logged-in user (a password, a session or an access token; never a registry token): what `metrics.access: authenticated` asks. */
  authorizeUser(p: Principal | 'invalid'): Denial | null {
    if (!this.enabled) return null;
    if (p === 'invalid' || p.user === null) return { status: 401, message: 'authentication required' };
    if (p.via === 'bearer') return { status: 403, message: 'a registry token is good only for the registry scopes it names' };
    return null;
  }

  /**
   * The admin API and the UI's admin pages: an administrator by password or session, or an access
   * token with the `admin` action whose owner is an administrator now. Never a registry token.
   */
  authorizeAdmin(p: Principal | 'invalid'): Denial | null {
    if (!this.enabled) return null;
    if (p === 'invalid') return { status: 401, message: 'authentication failed' };
    if (p.user === null) return { status: 401, message: 'an administrator must authenticate' };
    if (p.via === 'bearer') return { status: 403, message: 'a registry token is good only for the registry scopes it names' };
    if (!this.isAdmin(p.user)) return { status: 403, message: `${p.user} is not an administrator` };
    if (p.token && !tokenAllows(p.token, null, 'admin')) return { status: 403, message: `access token ${JSON.stringify(p.token.name)} does not allow admin` };
    return null;
  }

  /**
   * Anonymous callers get a challenge (they may have credentials); known users who may read the
   * repo get 403; those who may not even read it get the not-found an unknown name gets, so a
   * repo's existence is told only to those who may see it.
   */
  private refuse(p: Principal, repo: string, message: string): Denial {
    if (p.user === null) return { status: 401, message: 'authentication required' };
    return this.can(p.user, repo, 'pull') ? { status: 403, message } : { status: 404, message: `no repository named ${repo}` };
  }

  /** Registry tokens (Docker's /token): access and refresh tokens signed with this server's secret. */
  get registryTokens(): RegistryTokens {
    this.issuer ??= new RegistryTokens({
      auth: () => this.cfg.auth,
      user: (name) => this.user(name),
      mayIssue: (p, repo, action) => this.can(p.user, repo, action) && (!p.token || tokenAllows(p.token, repo, PERMISSION[action])),
      secret: this.secret,
      now: this.now,
    });
    return this.issuer;
  }
}

/** The password of a Basic header value, or null when it is not base64 of `user:password`. */
function basicPassword(value: string): string | null {
  const bytes = value.length <= 4096 ? fromBase64(value) : null;
  const decoded = bytes ? fromUtf8(bytes) : '';
  const i = decoded.indexOf(':');
  return i < 0 ? null : decoded.slice(i + 1);
}

function loginLimits(cfg: Config): LoginLimits {
  const l = cfg.auth?.failedLogins;
  return { perAddress: l?.perAddress ?? 30, perUser: l?.perUser ?? 10, windowMs: (l?.windowSeconds ?? 60) * 1000 };
}

/** A running repo's config with new permissions; its type, members and deployTo stay as started. */
function withPermissions(repo: RepoConfig, permissions: RepoConfig['permissions']): RepoConfig {
  const { permissions: _old, ...rest } = repo;
  return (permissions === undefined ? rest : { ...rest, permissions }) as RepoConfig;
}
