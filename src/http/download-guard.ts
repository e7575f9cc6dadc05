export interface DownloadLimits {
  /** Response bodies one client address may have open at once; 0 = no limit. */
  maxPerClient: number;
  /** A body the client has not taken a byte of for this long is cut off (its file handle released). */
  sendIdleMs: number;
}

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
 * chunk). Time spent waiting for the source (a slow upstream) never counts as idle.
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

  /** The same bytes, counted against `client` until they end, fail or are cancelled. */
  wrap(body: ReadableStream<Uint8Array>, client: string): ReadableStream<Uint8Array> {
    const reader = body.getReader();
    let entry: Open | undefined;
    const release = (): void => {
      if (!entry || !this.open.delete(entry)) return;
      const n = (this.perClient.get(client) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(client);
      else this.perClient.set(client, n);
      if (this.open.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          entry = {
            client,
            stalledSince: undefined,
            cut: () => {
              release();
              const why = new Error(`client took no bytes for ${this.limits.sendIdleMs / 1000}s; download cut off`);
              reader.cancel(why).catch(() => {});
              controller.error(why);
            },
          };
          this.open.add(entry);
          this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
          this.watch();
        },
        pull: async (controller) => {
          if (entry) entry.stalledSince = undefined;
          try {
            const r = await reader.read();
            if (r.done) {
              release();
              controller.close();
              return;
            }
            controller.enqueue(r.value);
            // A chunk is queued; until the consumer asks for the next one, it is the client we wait for.
            if (entry) entry.stalledSince = this.now();
          } catch (e) {
            release();
            throw e;
          }
        },
        cancel: (reason) => {
          release();
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
  }

  private watch(): void {
    if (this.timer) return;
    const tick = Math.max(50, Math.min(1000, Math.floor(this.limits.sendIdleMs / 4)));
    this.timer = setInterval(() => {
      const now = this.now();
      for (const e of [...this.open]) if (e.stalledSince !== undefined && now - e.stalledSince >= this.limits.sendIdleMs) e.cut();
    }, tick);
  }
}
