import type { ConditionalOps, StorageDriver } from './driver.ts';
import { layout } from './layout.ts';

interface LeaseDoc {
  owner: string;
  expiresAt: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function parse(bytes: Uint8Array): LeaseDoc | null {
  try {
    const d = JSON.parse(dec.decode(bytes)) as Partial<LeaseDoc> | null;
    return d && typeof d.owner === 'string' && typeof d.expiresAt === 'number' ? { owner: d.owner, expiresAt: d.expiresAt } : null;
  } catch {
    return null;
  }
}

/** A lease this replica holds; renewed in the background until released. */
export class Lease {
  private timer: ReturnType<typeof setInterval> | undefined;
  private renewing: Promise<void> = Promise.resolve();
  /** False once another replica took the lease over (this one stopped renewing in time). */
  held = true;

  constructor(
    private readonly leases: Leases,
    readonly key: string,
    private tag: string,
  ) {
    this.timer = setInterval(() => {
      this.renewing = this.renew().catch(() => {});
    }, Math.max(100, leases.ttlMs / 3));
  }

  private async renew(): Promise<void> {
    if (!this.held) return;
    const tag = await this.leases.ops.replaceIfTag(this.key, this.leases.doc(), this.tag);
    if (tag === null) this.held = false;
    else this.tag = tag;
  }

  /** Stops renewing and deletes the lease object, unless someone else holds it by now. */
  async release(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    if (!this.held) return;
    this.held = false;
    const now = await this.leases.ops.readTagged(this.key, 4096);
    if (now && now.tag === this.tag) await this.leases.driver.delete(this.key);
  }
}

/**
 * Leases between replicas over one bucket: a small object created only if absent (If-None-Match),
 * renewed by compare-and-swap on its ETag (If-Match), deleted on release. A holder that dies stops
 * renewing; after `ttlMs` another replica replaces the expired lease (again by compare-and-swap, so
 * of several replicas waiting exactly one takes it over). Expiry compares clocks of different
 * machines: keep them in sync (NTP) well within the TTL.
 */
export class Leases {
  constructor(
    readonly driver: StorageDriver,
    readonly ops: ConditionalOps,
    private readonly owner: string,
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  doc(): Uint8Array {
    return enc.encode(JSON.stringify({ owner: this.owner, expiresAt: this.now() + this.ttlMs } satisfies LeaseDoc));
  }

  /** The lease object's key for any name (a digest, a path): hashed into the key alphabet. */
  static async keyFor(name: string): Promise<string> {
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(name)));
    return layout.lease([...h.slice(0, 20)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  }

  /** Takes the lease, or returns when it expires elsewhere (`until`) if a live holder has it. */
  async acquire(key: string): Promise<{ lease: Lease; takeover: boolean } | { heldBy: string; until: number }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const created = await this.ops.createIfAbsent(key, this.doc());
      if (created !== null) return { lease: new Lease(this, key, created), takeover: false };
      const cur = await this.ops.readTagged(key, 4096);
      if (!cur) continue; // released between our two requests: try to create it again
      const doc = parse(cur.bytes);
      // A live lease of another process waits; one of this process (a fill that stalled and is being
      // replaced here) is taken over at once: this process decides which of its own fills runs.
      if (doc && doc.expiresAt > this.now() && doc.owner !== this.owner) return { heldBy: doc.owner, until: doc.expiresAt };
      // Expired (or unreadable): take it over, unless another waiter was faster.
      const tag = await this.ops.replaceIfTag(key, this.doc(), cur.tag);
      if (tag !== null) return { lease: new Lease(this, key, tag), takeover: true };
    }
    return { heldBy: 'unknown', until: this.now() + this.ttlMs };
  }
}
