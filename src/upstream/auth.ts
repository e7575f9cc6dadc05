import { Lru } from '../util/lru.ts';
import { RegistryError } from '../errors.ts';
import { readLimited } from '../util/streams.ts';
import { SingleFlight } from './singleflight.ts';
import type { Challenge } from './www-authenticate.ts';

export interface Credentials {
  username: string;
  password: string;
}

export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

export function basicAuth(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** Scopes remembered at once (one per image name): random names must not grow memory for good. */
const MAX_TOKENS = 2048;

/**
 * Bearer tokens of the Docker token flow, cached per realm/service/scope until shortly before they
 * expire; concurrent requests for one scope share one token fetch. Bounded: least recently used
 * scopes are dropped past MAX_TOKENS, expired ones when met.
 */
export class TokenCache {
  private readonly cache = new Lru<CachedToken>(MAX_TOKENS);
  private readonly flight = new SingleFlight<CachedToken>();

  constructor(
    private readonly fetchFn: FetchFn,
    private readonly now: () => number,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
  ) {}

  async token(challenge: Challenge, scope: string, creds: Credentials | undefined): Promise<string> {
    const realm = challenge.params['realm'];
    if (!realm) throw new RegistryError('upstream', 'upstream Bearer challenge has no realm');
    const service = challenge.params['service'] ?? '';
    const wantScope = challenge.params['scope'] ?? scope;
    const key = `${realm}|${service}|${wantScope}|${creds?.username ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.token;
    if (hit) this.cache.delete(key);
    const { promise } = this.flight.do(key, () => this.fetchToken(realm, service, wantScope, creds));
    const t = await promise;
    this.cache.set(key, t);
    return t.token;
  }

  /** Drops a token the upstream refused, so the next request fetches a fresh one. */
  forget(token: string): void {
    this.cache.deleteWhere((t) => t.token === token);
  }

  get size(): number {
    return this.cache.size;
  }

  private async fetchToken(
    realm: string,
    service: string,
    scope: string,
    creds: Credentials | undefined,
  ): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError('upstream', 'upstream token realm is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new RegistryError('upstream', 'upstream token realm is not http(s)');
    }
    if (service) url.searchParams.set('service', service);
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    if (creds) {
      headers['authorization'] = basicAuth(creds);
      url.searchParams.set('account', creds.username);
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
    } catch (e) {
      throw new RegistryError('unavailable', `token server ${url.host} unreachable`, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel();
      // Our credentials were refused upstream: the upstream's problem to report (502), never a
      // 401 of ours, which would make the client think it must log in to us.
      const why = res.status === 401 || res.status === 403 ? ' (it refused the credentials of this repo)' : '';
      throw new RegistryError('upstream', `token server ${url.host} answered ${res.status}${why}`, { upstreamStatus: res.status });
    }
    const body = await readLimited(res.body, 1 << 20, this.timeoutMs, 'token answer');
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(new TextDecoder().decode(body)) as typeof doc;
    } catch {
      throw new RegistryError('upstream', `token server ${url.host} answered something that is not JSON`);
    }
    const token = typeof doc.token === 'string' ? doc.token : doc.access_token;
    if (typeof token !== 'string' || token === '') {
      throw new RegistryError('upstream', `token server ${url.host} answered without a token`);
    }
    // The spec's default lifetime is 60 s; renew a little early so a token never expires in flight.
    const ttl = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    return { token, expiresAt: this.now() + Math.max(ttl * 1000 * 0.9, ttl * 1000 - 30_000) };
  }
}
