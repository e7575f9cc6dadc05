import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { layout } from '../storage/layout.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import { toBase64Url, utf8 } from '../util/base64.ts';
import { globToRegExp } from '../util/glob.ts';

/** What an access token may be used for, per repo pattern; `admin` is the admin API and jobs. */
export type TokenPermission = 'read' | 'write' | 'delete' | 'admin';
export const TOKEN_PERMISSIONS: readonly TokenPermission[] = ['read', 'write', 'delete', 'admin'];

/** A token as stored (`v1/auth/tokens/<id>`): never the secret, only its sha256. */
export interface AccessTokenDoc {
  id: string;
  name: string;
  user: string;
  /** Repo name patterns (the config's glob language: `*`, `**`); `["*"]` for every repo. */
  repos: string[];
  actions: TokenPermission[];
  createdAt: number;
  /** Epoch ms; null = never expires. */
  expiresAt: number | null;
  lastUsedAt: number | null;
  hash: string;
}

/** What callers see of a token (listings, the UI): everything but the hash. */
export type AccessTokenInfo = Omit<AccessTokenDoc, 'hash'>;

export interface NewToken {
  user: string;
  name: string;
  repos: string[];
  actions: TokenPermission[];
  /** Lifetime in ms from now; undefined = never expires. */
  ttlMs?: number;
}

/**
 * `brt_<16 hex id>_<43 base64url secret>`: the id finds the document without a scan, the 256-bit
 * secret is what proves possession. A fixed prefix lets scanners (and our own identify) tell it
 * from a password or a registry token.
 */
const TOKEN_RE = /^brt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const isAccessToken = (s: string): boolean => TOKEN_RE.test(s);

/** A token document read this long ago is used again without a read (a revocation by another process or replica shows after it). */
const CACHE_MS = 5_000;
/** lastUsedAt is written at most this often per token: a CI job's thousand requests cost one write. */
const LAST_USED_EVERY_MS = 60_000;
const MAX_TOKENS_PER_USER = 100;
const hashOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/**
 * Access tokens for people and CI: named, owned by a user, scoped to repo patterns × actions,
 * expiring, stored hashed, revocable, last use recorded. A token never grants more than its owner
 * may do at the moment of use: AccessControl checks the owner's live permissions as well.
 * Documents live in the meta store, so every replica over a shared store knows every token.
 */
export class AccessTokens {
  private readonly recent = new Map<string, { doc: AccessTokenDoc | null; at: number }>();

  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number,
  ) {}

  async create(t: NewToken): Promise<{ token: string; info: AccessTokenInfo }> {
    if ((await this.list(t.user)).length >= MAX_TOKENS_PER_USER) throw new TokenError(`${t.user} has ${MAX_TOKENS_PER_USER} tokens already; revoke some first`);
    const id = randomId();
    const secret = toBase64Url(new Uint8Array(randomBytes(32)));
    const doc: AccessTokenDoc = {
      id,
      name: t.name,
      user: t.user,
      repos: t.repos,
      actions: t.actions,
      createdAt: this.now(),
      expiresAt: t.ttlMs === undefined ? null : this.now() + t.ttlMs,
      lastUsedAt: null,
      hash: hashOf(secret),
    };
    await this.meta.put(layout.accessToken(id), doc, { remember: false });
    this.recent.delete(id);
    return { token: `brt_${id}_${secret}`, info: infoOf(doc) };
  }

  /** The token's document when the secret matches and it has not expired; else null. Records the use. */
  async verify(token: string): Promise<AccessTokenDoc | null> {
    const m = TOKEN_RE.exec(token);
    if (!m) return null;
    const [, id = '', secret = ''] = m;
    const doc = await this.read(id);
    if (!doc) return null;
    const want = utf8(doc.hash);
    const got = utf8(hashOf(secret));
    if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
    if (doc.expiresAt !== null && doc.expiresAt <= this.now()) return null;
    if (doc.lastUsedAt === null || this.now() - doc.lastUsedAt > LAST_USED_EVERY_MS) {
      doc.lastUsedAt = this.now();
      // Best effort: a failed write of the use time must not refuse the request.
      await this.meta.put(layout.accessToken(id), doc, { remember: false }).catch(() => {});
    }
    return doc;
  }

  /** Whether a token id still names a live token (registry tokens minted from one die with it). */
  async alive(id: string): Promise<boolean> {
    const doc = await this.read(id);
    return doc !== null && (doc.expiresAt === null || doc.expiresAt > this.now());
  }

  /** Every token of a user (or of everyone), newest first. */
  async list(user?: string): Promise<AccessTokenInfo[]> {
    const out: AccessTokenInfo[] = [];
    for (const name of await this.meta.list(layout.accessTokensDir())) {
      const doc = await this.meta.get<AccessTokenDoc>(`${layout.accessTokensDir()}/${name}`, { remember: false });
      if (doc && (user === undefined || doc.user === user)) out.push(infoOf(doc));
    }
    return out.sort((a, b) => b.createdAt - a.createdAt);
  }

  /** Revokes a token; `user` set: only if it is theirs. False when there was none. */
  async revoke(id: string, user?: string): Promise<boolean> {
    if (!/^[0-9a-f]{16}$/.test(id)) return false;
    const doc = await this.read(id, true);
    if (!doc || (user !== undefined && doc.user !== user)) return false;
    await this.meta.delete(layout.accessToken(id));
    this.recent.set(id, { doc: null, at: this.now() });
    return true;
  }

  private async read(id: string, fresh = false): Promise<AccessTokenDoc | null> {
    const hit = this.recent.get(id);
    if (!fresh && hit && this.now() - hit.at < CACHE_MS) return hit.doc;
    const doc = await this.meta.get<AccessTokenDoc>(layout.accessToken(id), { remember: false });
    if (this.recent.size > 10_000) this.recent.clear();
    this.recent.set(id, { doc, at: this.now() });
    return doc;
  }
}

export class TokenError extends Error {}

function randomId(): string {
  return [...new Uint8Array(randomBytes(8))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function infoOf(doc: AccessTokenDoc): AccessTokenInfo {
  const { hash: _hash, ...info } = doc;
  return info;
}

/** Whether a token's scope covers `permission` in `repo` (write and delete include read, as in the config's permissions). */
export function tokenAllows(doc: Pick<AccessTokenDoc, 'repos' | 'actions'>, repo: string | null, permission: TokenPermission): boolean {
  const has = permission === 'read' ? doc.actions.some((a) => a !== 'admin') : doc.actions.includes(permission);
  if (!has) return false;
  return repo === null || doc.repos.some((p) => globToRegExp(p).test(repo));
}

const DEFAULT_DAYS = 90;
const MAX_DAYS = 3650;

/**
 * A token request as the admin API, the UI form and the CLI take it: a name, repo patterns (default
 * every repo), actions (default read) and a lifetime in days (default 90; 0 = never expires).
 * Throws TokenError with what is wrong.
 */
export function parseNewToken(user: string, isAdmin: boolean, input: { name?: unknown; repos?: unknown; actions?: unknown; expiresInDays?: unknown }): NewToken {
  const name = input.name;
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(name)) throw new TokenError('name: 1 to 64 letters, digits, spaces, ".", "_" or "-"');
  const repos = input.repos ?? ['*'];
  if (!Array.isArray(repos) || repos.length === 0 || repos.length > 50 || !repos.every((r) => typeof r === 'string' && /^[A-Za-z0-9._*-]{1,128}$/.test(r))) {
    throw new TokenError('repos: 1 to 50 repo name patterns (letters, digits, ".", "_", "-", "*")');
  }
  const actions = input.actions ?? ['read'];
  if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a): a is TokenPermission => typeof a === 'string' && (TOKEN_PERMISSIONS as readonly string[]).includes(a))) {
    throw new TokenError(`actions: one or more of ${TOKEN_PERMISSIONS.join(', ')}`);
  }
  if (actions.includes('admin') && !isAdmin) throw new TokenError(`${user} is not an administrator: a token of theirs cannot have admin`);
  const days = input.expiresInDays ?? DEFAULT_DAYS;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 0 || days > MAX_DAYS) throw new TokenError(`expiresInDays: a whole number from 0 (never) to ${MAX_DAYS}`);
  return { user, name, repos: [...new Set(repos as string[])], actions: [...new Set(actions)], ...(days > 0 ? { ttlMs: days * 86_400_000 } : {}) };
}
