export interface DownloadLimits {
  /** Response bodies one client address may have open at once; 0 = no limit. */
  maxPerClient: number;
  /** A body the client has not taken a byte of for this long is cut off (its file handle released). */
  sendIdleMs: number;
}

/** What a body reports: the consumer asked for more; a chunk was handed over; the body is over. */
export interface BodyWatch {
  pulled(): void;
  delivered(): void;
  end(): void;
}

/** Starts watching one body; `cut` errors it when its consumer stalls. */
export type Watcher = (cut: (why: Error) => void) => BodyWatch;

interface Open {
  client: string;
  /** Since when the body has had a chunk ready that the client does not take; undefined = not waiting. */
  stalledSince: number | undefined;
  cut: () => void;
}

/**
 * Bounds what clients can make us hold with downloads they never read: every streamed response
 * body is counted per client address (a client over its limit gets 429 before anything is
 * opened) and watched for a consumer that stopped reading (one timer for all bodies, not one per
 * chunk). Time spent waiting for the source (a slow upstream) never counts as idle: a body is idle
 * only between handing over a chunk and being asked for the next.
 */
export class DownloadGuard {
  private readonly open = new Set<Open>();
  private readonly perClient = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly limits: DownloadLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this client may start another download. */
  admits(client: string): boolean {
    return this.limits.maxPerClient <= 0 || (this.perClient.get(client) ?? 0) < this.limits.maxPerClient;
  }

  /** Bodies open now (metrics, tests). */
  get size(): number {
    return this.open.size;
  }

  openFor(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  /**
   * Counts one body against `client` and watches its consumer. The body's own pull stream reports
   * to the returned watch (no extra stream layer on the hot path); `cut` is called, once, when the
   * consumer has taken nothing for sendIdleMs: the stream must then error and release its handle.
   */
  watch(client: string, cut: (why: Error) => void): BodyWatch {
    const entry: Open = {
      client,
      stalledSince: undefined,
      cut: () => {
        release();
        cut(new Error(`client took no bytes for ${this.limits.sendIdleMs / 1000}s; download cut off`));
      },
    };
    const release = (): void => {
      if (!this.open.delete(entry)) return;
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(client);
      else this.perClient.set(client, n);
      if (this.open.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
    this.open.add(entry);
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.startTimer();
    return {
      pulled: () => void (entry.stalledSince = undefined),
      delivered: () => void (entry.stalledSince = this.now()),
      end: release,
    };
  }

  /** A watcher for one client's bodies: what our own pull streams take (file-stream, resume). */
  watcherFor(client: string): Watcher {
    return (cut) => this.watch(client, cut);
  }

  private startTimer(): void {
    if (this.timer) return;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.limits.sendIdleMs / 4)));
    this.timer = setInterval(() => {
      const now = this.now();
      for (const e of [...this.open]) if (e.stalledSince !== undefined && now - e.stalledSince >= this.limits.sendIdleMs) e.cut();
    }, tick);
  }
}
