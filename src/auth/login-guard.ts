import { Lru } from '../util/lru.ts';
import { RegistryError } from '../errors.ts';
import { Semaphore } from '../util/semaphore.ts';

export interface LoginLimits {
  /** Failed logins one client address may make per window before it is refused (429). */
  perAddress: number;
  /** Failed logins against one user name per window. */
  perUser: number;
  windowMs: number;
}

/** scrypt runs on the runtime's small shared thread pool (file I/O uses it too): few at once. */
const CONCURRENT_CHECKS = 2;
/** Checks waiting for a place; a flood beyond this is refused at once instead of queueing. */
const MAX_WAITING = 256;
/** Addresses and user names tracked at once (an attacker rotating names cannot grow memory). */
const MAX_TRACKED = 20_000;

interface Window {
  count: number;
  since: number;
}

/**
 * Keeps password checks from starving everything else: bounded concurrency for the hash work, and
 * failure counters per client address and per user name that refuse (429 with Retry-After) before
 * any hashing is done. Successful logins never reach it (AccessControl remembers them).
 */
export class LoginGuard {
  private readonly checks = new Semaphore(CONCURRENT_CHECKS, MAX_WAITING);
  private readonly failures = new Lru<Window>(MAX_TRACKED);
  /** Password hashes computed so far (known and unknown users alike). */
  checksRun = 0;

  constructor(
    private limits: LoginLimits,
    private readonly now: () => number,
  ) {}

  setLimits(limits: LoginLimits): void {
    this.limits = limits;
  }

  /** Runs a password check unless this address or user is over its failure budget; records failures. */
  async check(address: string, user: string, verify: () => Promise<boolean>): Promise<boolean> {
    this.refuseIfOver(`a:${address}`, this.limits.perAddress, 'this address');
    this.refuseIfOver(`u:${user}`, this.limits.perUser, `user ${JSON.stringify(user.slice(0, 64))}`);
    const ok = await this.checks.run(() => {
      this.checksRun++;
      return verify();
    });
    if (ok === null) throw new RegistryError('rate_limited', 'too many logins being checked at once; try again shortly', { retryAfter: 1 });
    if (!ok) {
      this.count(`a:${address}`);
      this.count(`u:${user}`);
    }
    return ok;
  }

  private refuseIfOver(key: string, max: number, who: string): void {
    const w = this.failures.get(key);
    if (!w) return;
    const left = w.since + this.limits.windowMs - this.now();
    if (left <= 0) {
      this.failures.delete(key);
      return;
    }
    if (w.count >= max) {
      throw new RegistryError('rate_limited', `too many failed logins from ${who}; try again later`, { retryAfter: Math.ceil(left / 1000) });
    }
  }

  private count(key: string): void {
    const w = this.failures.get(key);
    const now = this.now();
    if (!w || now - w.since >= this.limits.windowMs) this.failures.set(key, { count: 1, since: now });
    else w.count++;
  }
}
