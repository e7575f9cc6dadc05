import { RegistryError } from '../errors.ts';
import { TokenCache, basicAuth } from './auth.ts';
import type { Credentials, FetchFn } from './auth.ts';
import { Destinations } from './destinations.ts';
import { parseWwwAuthenticate } from './www-authenticate.ts';
import type { Challenge } from './www-authenticate.ts';

export interface UpstreamOptions {
  /** Base URL, e.g. https://registry-1.docker.io (no trailing slash needed). */
  url: string;
  credentials?: Credentials;
  /** Connect + response headers; the body has its own idle timeout. */
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** Consecutive failures that open the breaker, and for how long it stays open. */
  breakerFailures: number;
  breakerOpenMs: number;
  userAgent: string;
  /** Our Via entry, so a request that loops back to us is recognised. */
  via: string;
  /** Hosts besides its own that redirects and absolute URLs may lead to (Destinations). */
  allowHosts?: string[];
}

export interface UpstreamObserver {
  response?(status: number, headers: Headers): void;
  failure?(kind: string): void;
}

export interface UpstreamRequest {
  /** POST only for small idempotent queries that are forwarded (npm audit), with `body`. */
  method: 'GET' | 'HEAD' | 'POST';
  body?: Uint8Array;
  path: string;
  accept?: string;
  /** Token scope, e.g. repository:library/alpine:pull */
  scope: string;
  signal?: AbortSignal;
  /** The Via chain of the client request that caused this one. */
  via?: string | undefined;
  /** More request headers (conditional revalidation: If-None-Match, If-Modified-Since). */
  headers?: Record<string, string>;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The one way to talk to an upstream registry: auth (Docker token flow, Basic), redirects that never
 * carry our Authorization to another host, a headers timeout, one retry for connection failures,
 * and a circuit breaker so a dead upstream costs nothing while stale copies are served.
 */
export class UpstreamClient {
  private readonly base: URL;
  private readonly destinations: Destinations;
  private failures = 0;
  private openUntil = 0;
  private challenge: Challenge | undefined;

  constructor(
    private readonly opts: UpstreamOptions,
    private readonly fetchFn: FetchFn,
    private readonly tokens: TokenCache,
    private readonly now: () => number,
    private readonly observer: UpstreamObserver = {},
  ) {
    this.base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.destinations = new Destinations(this.base, opts.allowHosts);
  }

  get host(): string {
    return this.base.host;
  }

  async request(req: UpstreamRequest): Promise<Response> {
    if (this.now() < this.openUntil) {
      // Counted apart from real upstream answers: the admin status shows an open breaker as such.
      this.observer.failure?.('breaker_open');
      throw new RegistryError('unavailable', `upstream ${this.base.host} is failing; not retried for a while`);
    }
    try {
      const res = await this.withAuth(req);
      // 508 says the request looped or passed too many proxies: the client's hops, not a sick upstream.
      if (res.status >= 500 && res.status !== 508) this.fail();
      else this.failures = 0;
      this.observer.response?.(res.status, res.headers);
      return res;
    } catch (e) {
      if (e instanceof RegistryError && e.kind === 'unavailable') this.fail();
      this.observer.failure?.(e instanceof RegistryError ? e.kind : 'error');
      throw e;
    }
  }

  private fail(): void {
    this.failures++;
    if (this.failures >= this.opts.breakerFailures) {
      this.openUntil = this.now() + this.opts.breakerOpenMs;
      this.failures = 0;
    }
  }

  private async withAuth(req: UpstreamRequest): Promise<Response> {
    const url = new URL(req.path.replace(/^\//, ''), this.base);
    // Once we know how the upstream wants to be asked, ask that way first: saves a 401 round trip.
    const known = await this.knownAuthorization(req.scope);
    let sent = await this.send(url, req, known);
    if (sent.res.status !== 401) return sent.res;
    // A challenge counts only from the upstream itself: a 401 from a redirect target (a CDN) that
    // names a realm elsewhere would otherwise receive the repo's credentials, now and later.
    if (sent.url.origin !== this.base.origin) {
      await sent.res.body?.cancel();
      throw new RegistryError('upstream', `upstream redirected to ${sent.url.host}, which asked for credentials; not sending ours there`, { upstreamStatus: 401 });
    }
    const challenges = parseWwwAuthenticate(sent.res.headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    let authorization: string | undefined;
    if (bearer) {
      const { scope: _scope, ...params } = bearer.params;
      this.challenge = { scheme: 'bearer', params };
      // The token we just sent was refused (revoked, key rotated): never send it again.
      if (known?.startsWith('Bearer ')) this.tokens.forget(known.slice(7));
      authorization = `Bearer ${await this.tokens.token(bearer, req.scope, this.opts.credentials)}`;
    } else if (challenges.some((c) => c.scheme === 'basic') && this.opts.credentials) {
      this.challenge = { scheme: 'basic', params: {} };
      authorization = basicAuth(this.opts.credentials);
    } else {
      return sent.res;
    }
    if (authorization === known) return sent.res;
    await sent.res.body?.cancel();
    sent = await this.send(url, req, authorization);
    return sent.res;
  }

  private async knownAuthorization(scope: string): Promise<string | undefined> {
    const c = this.challenge;
    if (!c) return undefined;
    if (c.scheme === 'basic') return this.opts.credentials ? basicAuth(this.opts.credentials) : undefined;
    try {
      return `Bearer ${await this.tokens.token(c, scope, this.opts.credentials)}`;
    } catch {
      // The realm may have moved; the plain request below brings a fresh challenge.
      return undefined;
    }
  }

  /** The final answer and the URL it came from (after redirects). */
  private async send(url: URL, req: UpstreamRequest, authorization: string | undefined): Promise<{ res: Response; url: URL }> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sameOrigin = current.origin === this.base.origin;
      const refused = sameOrigin ? null : this.destinations.refuse(current);
      if (refused) throw new RegistryError('upstream', `not following the upstream to ${current.origin}: ${refused}`);
      // The incoming chain plus us: a loop through several instances comes back to one that sees itself.
      const headers: Record<string, string> = {
        'user-agent': this.opts.userAgent,
        via: req.via ? `${req.via}, ${this.opts.via}` : this.opts.via,
        // Bytes exactly as stored: a transfer encoding would make Content-Length lie about the blob.
        'accept-encoding': 'identity',
      };
      if (req.accept) headers['accept'] = req.accept;
      if (req.headers) Object.assign(headers, req.headers);
      // Credentials are for the registry only, never for the CDN it redirects blobs to.
      if (authorization && sameOrigin) headers['authorization'] = authorization;
      const res = await this.fetchOnce(current, req, headers);
      if (!REDIRECTS.has(res.status)) return { res, url: current };
      const loc = res.headers.get('location');
      await res.body?.cancel();
      if (!loc) throw new RegistryError('upstream', `upstream redirect without Location`, { upstreamStatus: res.status });
      current = new URL(loc, current);
      if (current.protocol !== 'http:' && current.protocol !== 'https:') {
        throw new RegistryError('upstream', `upstream redirected to a non-http URL`);
      }
    }
    throw new RegistryError('upstream', `upstream redirected more than ${MAX_REDIRECTS} times`);
  }

  private async fetchOnce(url: URL, req: UpstreamRequest, headers: Record<string, string>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), this.opts.headersTimeoutMs);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout.signal]) : timeout.signal;
      try {
        return await this.fetchFn(url, { method: req.method, headers, redirect: 'manual', signal, ...(req.body ? { body: req.body } : {}) });
      } catch (e) {
        if (req.signal?.aborted) throw new RegistryError('unavailable', 'request aborted', { cause: e });
        const timedOut = timeout.signal.aborted;
        // A refused or reset connection is worth one quick retry; a timeout already cost too much.
        if (!timedOut && attempt === 0) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        const why = timedOut ? `no response within ${this.opts.headersTimeoutMs / 1000}s` : 'unreachable';
        throw new RegistryError('unavailable', `upstream ${url.host} ${why}`, { cause: e });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
