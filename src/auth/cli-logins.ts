import type { MetaStore } from '../storage/meta-store.ts';
import { digestOf } from '../storage/digest.ts';
import { layout } from '../storage/layout.ts';
import { toBase64Url } from '../util/base64.ts';
import type { AccessTokens } from './access-tokens.ts';

/** A login started by a command line (npm login's web flow), waiting for its user to approve it in the web UI. */
interface PendingLogin {
  repo: string;
  created: number;
  /** sha256 of the poll secret: only the command line that started it can collect the token. */
  secretHash: string;
  user?: string;
  /** The access token made on approval, until the command line collects it (at most LOGIN_MS). */
  token?: string;
}

const LOGIN_MS = 10 * 60_000;
const MAX_PENDING = 1000;
const random = (n: number): string => toBase64Url(crypto.getRandomValues(new Uint8Array(n)));
const hash = (s: string): string => digestOf(new TextEncoder().encode(s)).hex;

/**
 * The device-style login a command line starts and a person finishes in the web UI: the CLI gets a
 * page URL (naming only the login's id) and a poll URL (with a secret); the user, logged in to the
 * UI, sees which repo asks and approves; an access token for that repo (read, write, delete; 90
 * days) is made and handed to the poll once, then forgotten. Kept in the meta store, so replicas
 * share it; expired after ten minutes; at most a thousand pending at once.
 */
export class CliLogins {
  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number,
    private readonly tokens: AccessTokens,
  ) {}

  private key(id: string): string {
    return `${layout.cliLoginsDir()}/${id}`;
  }

  async start(repo: string): Promise<{ id: string; secret: string } | null> {
    const ids = await this.meta.list(layout.cliLoginsDir());
    let live = 0;
    for (const id of ids) {
      const doc = await this.meta.get<PendingLogin>(this.key(id), { remember: false });
      if (!doc || doc.created + LOGIN_MS < this.now()) await this.meta.delete(this.key(id));
      else live++;
    }
    if (live >= MAX_PENDING) return null;
    const id = random(16).replace(/[^A-Za-z0-9]/g, 'x');
    const secret = random(32);
    const doc: PendingLogin = { repo, created: this.now(), secretHash: hash(secret) };
    await this.meta.put(this.key(id), doc);
    return { id, secret };
  }

  /** The pending login of an id (for the approval page), or null when there is none or it expired. */
  async pending(id: string): Promise<{ repo: string; created: number; approved: boolean } | null> {
    if (!/^[A-Za-z0-9]{16,32}$/.test(id)) return null;
    const doc = await this.meta.get<PendingLogin>(this.key(id), { remember: false });
    if (!doc || doc.created + LOGIN_MS < this.now()) return null;
    return { repo: doc.repo, created: doc.created, approved: doc.token !== undefined };
  }

  /** The user approves: a token for the login's repo, kept for the poll. False when expired or approved already. */
  async approve(id: string, user: string): Promise<boolean> {
    const p = await this.pending(id);
    if (!p || p.approved) return false;
    const t = await this.tokens.create({ user, name: `login ${new Date(this.now()).toISOString().slice(0, 19)}`, repos: [p.repo], actions: ['read', 'write', 'delete'], ttlMs: 90 * 86_400_000 });
    const done = await this.meta.update<PendingLogin>(this.key(id), (cur) => (cur && cur.token === undefined ? { ...cur, user, token: t.token } : undefined));
    if (done?.token !== t.token) {
      await this.tokens.revoke(t.info.id);
      return false;
    }
    return true;
  }

  /** The poll: 'pending', the token (once: the login is then forgotten), or null (no such login, wrong secret, expired). */
  async poll(id: string, secret: string): Promise<'pending' | { token: string; user: string } | null> {
    if (!/^[A-Za-z0-9]{16,32}$/.test(id)) return null;
    const doc = await this.meta.get<PendingLogin>(this.key(id), { remember: false });
    if (!doc || doc.created + LOGIN_MS < this.now() || doc.secretHash !== hash(secret)) return null;
    if (doc.token === undefined || doc.user === undefined) return 'pending';
    await this.meta.delete(this.key(id));
    return { token: doc.token, user: doc.user };
  }
}
