import type { NotificationEndpointConfig } from './config/schema.ts';
import type { Logger } from './log.ts';
import type { ServerMetrics } from './metrics/registry.ts';
import type { FetchFn } from './upstream/auth.ts';

/** One event, in the CNCF distribution's notification format (plus `repo`: which repo stored it). */
export interface RegistryEvent {
  id: string;
  timestamp: string;
  action: 'push' | 'pull' | 'delete';
  repo: string;
  /** The repo's format (docker, generic, go, helm, ...): one envelope for every format's events. */
  format?: string;
  target: { mediaType?: string; size?: number; length?: number; digest?: string; repository: string; tag?: string; url?: string };
  request: { method: string; host?: string; useragent?: string };
  actor: { name?: string };
  source: { instanceID: string };
}

export type EventInput = Omit<RegistryEvent, 'id' | 'timestamp' | 'source'>;

const MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const BATCH = 50;
const MAX_BACKOFF_MS = 60_000;

/**
 * Sends registry events to webhooks, as the CNCF registry's `notifications.endpoints` do: one
 * ordered queue per endpoint, batches of up to 50 events per POST, retries with doubling backoff
 * while the endpoint fails (at-least-once: a batch may arrive twice), the oldest events dropped
 * beyond `maxQueue`. Queues live in memory: events still queued when the server stops are lost.
 */
export class Notifier {
  private readonly queues: EndpointQueue[];

  constructor(
    endpoints: NotificationEndpointConfig[],
    private readonly deps: { fetchFn: FetchFn; log: Logger; metrics: ServerMetrics; now: () => number; serverId: string; newId: () => string },
  ) {
    this.queues = endpoints.map((e) => new EndpointQueue(e, deps));
  }

  get enabled(): boolean {
    return this.queues.length > 0;
  }

  emit(input: EventInput): void {
    if (this.queues.length === 0) return;
    const event: RegistryEvent = { id: this.deps.newId(), timestamp: new Date(this.deps.now()).toISOString(), ...input, source: { instanceID: this.deps.serverId } };
    for (const q of this.queues) q.add(event);
  }

  /** Resolves once every queue is empty (tests; a clean shutdown could wait on it). */
  async drained(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.drained()));
  }

  stop(): void {
    for (const q of this.queues) q.stop();
  }
}

class EndpointQueue {
  private readonly queue: RegistryEvent[] = [];
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly cfg: NotificationEndpointConfig,
    private readonly deps: { fetchFn: FetchFn; log: Logger; metrics: ServerMetrics },
  ) {}

  add(e: RegistryEvent): void {
    if (!this.cfg.actions.includes(e.action)) return;
    if (this.cfg.repos.length > 0 && !this.cfg.repos.includes(e.repo)) return;
    if (this.queue.length >= this.cfg.maxQueue) {
      this.queue.shift();
      this.deps.metrics.notifications.inc({ endpoint: this.cfg.name, result: 'dropped' });
    }
    this.queue.push(e);
    if (!this.running && !this.stopped) void this.run();
  }

  drained(): Promise<void> {
    return this.queue.length === 0 && !this.running ? Promise.resolve() : new Promise((r) => this.idle.push(r));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private async run(): Promise<void> {
    this.running = true;
    let backoff = this.cfg.backoffSeconds * 1000;
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, BATCH);
      if (await this.post(batch)) {
        // Events dropped while this batch was in flight shifted the queue; remove what was sent.
        for (const e of batch) if (this.queue[0] === e) this.queue.shift();
        this.deps.metrics.notifications.inc({ endpoint: this.cfg.name, result: 'delivered' }, batch.length);
        backoff = this.cfg.backoffSeconds * 1000;
      } else {
        this.deps.metrics.notifications.inc({ endpoint: this.cfg.name, result: 'failed' }, batch.length);
        await new Promise<void>((r) => {
          this.wake = r;
          this.timer = setTimeout(r, backoff);
        });
        this.wake = undefined;
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    this.running = false;
    const waiting = this.idle;
    this.idle = [];
    for (const w of waiting) w();
  }

  private async post(events: RegistryEvent[]): Promise<boolean> {
    try {
      const res = await this.deps.fetchFn(this.cfg.url, {
        method: 'POST',
        headers: { ...this.cfg.headers, 'content-type': MEDIA_TYPE },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(this.cfg.timeoutSeconds * 1000),
      });
      await res.body?.cancel();
      if (res.ok) return true;
      this.deps.log.warn('notification refused', { endpoint: this.cfg.name, status: res.status, events: events.length });
    } catch (e) {
      this.deps.log.warn('notification failed', { endpoint: this.cfg.name, error: String(e), events: events.length });
    }
    return false;
  }
}
