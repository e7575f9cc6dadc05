import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import { TokenCache } from './auth.ts';
import type { FetchFn } from './auth.ts';
import { UpstreamClient } from './client.ts';

/** A remote repo's `upstream` block, as every format's config has it. */
export interface UpstreamConfig {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  headersTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  breakerFailures: number;
  breakerOpenSeconds: number;
  allowHosts?: string[] | undefined;
}

export interface UpstreamDeps {
  fetchFn: FetchFn;
  now: () => number;
  metrics: ServerMetrics;
  log: Logger;
  userAgent: string;
  serverId: string;
}

/**
 * The upstream client of one remote repo, whatever its format: credentials, timeouts, breaker,
 * our Via entry, and metrics per repo. One token cache per repo: tokens obtained with one repo's
 * credentials never serve another.
 */
export function upstreamClientFor(repo: string, up: UpstreamConfig, d: UpstreamDeps): UpstreamClient {
  const credentials = up.username !== undefined ? { username: up.username, password: up.password ?? '' } : undefined;
  return new UpstreamClient(
    {
      url: up.url,
      ...(credentials ? { credentials } : {}),
      headersTimeoutMs: up.headersTimeoutSeconds * 1000,
      idleTimeoutMs: up.idleTimeoutSeconds * 1000,
      breakerFailures: up.breakerFailures,
      breakerOpenMs: up.breakerOpenSeconds * 1000,
      ...(up.allowHosts ? { allowHosts: up.allowHosts } : {}),
      userAgent: d.userAgent,
      via: `1.1 ${d.serverId}`,
    },
    d.fetchFn,
    new TokenCache(d.fetchFn, d.now, up.headersTimeoutSeconds * 1000, d.userAgent),
    d.now,
    {
      response: (status, headers) => {
        d.metrics.upstreamRequests.inc({ repo, status: String(status) });
        const remaining = headers.get('ratelimit-remaining');
        const n = remaining ? Number.parseInt(remaining, 10) : Number.NaN;
        if (!Number.isNaN(n)) d.metrics.upstreamRateLimit.set({ repo }, n);
      },
      failure: (kind) => d.metrics.upstreamRequests.inc({ repo, status: kind }),
    },
  );
}
