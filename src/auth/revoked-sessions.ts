import { layout } from '../storage/layout.ts';
import type { MetaStore } from '../storage/meta-store.ts';

/** Past this many revocations since the last sweep, expired ones are deleted (the folder stays small). */
const SWEEP_EVERY = 200;

/**
 * UI sessions ended by logout, until they would have expired anyway: `v1/auth/revoked-sessions/<sid>`
 * in the meta store (so every replica refuses them), remembered here too. A session id is 128
 * random bits; the document holds only its expiry.
 */
export class RevokedSessions {
  private readonly known = new Map<string, number>();
  private added = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number,
  ) {}

  async has(sid: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(sid)) return true;
    const mine = this.known.get(sid);
    if (mine !== undefined) return mine > this.now();
    const doc = await this.meta.get<{ exp: number }>(layout.revokedSession(sid), { remember: false });
    return doc !== null && doc.exp > this.now();
  }

  async add(sid: string, exp: number): Promise<void> {
    if (!/^[A-Za-z0-9_-]{10,64}$/.test(sid)) return;
    this.known.set(sid, exp);
    await this.meta.put(layout.revokedSession(sid), { exp }, { remember: false });
    if (++this.added >= SWEEP_EVERY) {
      this.added = 0;
      await this.sweep();
    }
  }

  /** Deletes revocations of sessions that have expired (they would be refused for their age alone). */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const [sid, exp] of this.known) if (exp <= now) this.known.delete(sid);
    for (const name of await this.meta.list(layout.revokedSessionsDir())) {
      const key = `${layout.revokedSessionsDir()}/${name}`;
      const doc = await this.meta.get<{ exp: number }>(key, { remember: false });
      if (!doc || doc.exp <= now) await this.meta.delete(key);
    }
  }
}
