import type { CoreServices } from '../format.ts';

/** Where a root /v2/ request goes, and how to name things back to the client. */
export interface Target {
  repo: string;
  /** The path after /v2 within the repo. */
  sub: string;
  /** What the client sees up to and including /v2, for Location and Link headers. */
  base: string;
  /** The client's names carry this prefix (`<repo>/` in the repository-path style). */
  namePrefix: string;
  /** Path of the token endpoint the challenge points at. */
  tokenPath: string;
}

/**
 * Root /v2/ routing, in order: the Host header's repo (nginx host names), the first path segment
 * when it names a repo (`host/<repo>/<image>`), the default repo. The token endpoint resolves scope
 * names the same way (resolveName), so a token is always for the repo the request will reach.
 */
export function resolveRoot(s: Pick<CoreServices, 'config' | 'repos'>, host: string, sub: string): Target | null {
  // An own property only: `Host: constructor` or `__proto__` must not find Object's members.
  const name = host.replace(/:\d+$/, '');
  const byHost = Object.hasOwn(s.config.hosts, name) ? s.config.hosts[name] : undefined;
  if (byHost) return { repo: byHost, sub, base: '/v2', namePrefix: '', tokenPath: '/token' };
  const first = /^\/([^/]+)(\/.*)$/.exec(sub);
  if (first?.[1] && first[2] && s.repos.has(first[1])) {
    return { repo: first[1], sub: first[2], base: `/v2/${first[1]}`, namePrefix: `${first[1]}/`, tokenPath: '/token' };
  }
  if (s.config.defaultRepo) return { repo: s.config.defaultRepo, sub, base: '/v2', namePrefix: '', tokenPath: '/token' };
  return null;
}

/** A repository name as a client wrote it at the root (scopes, mount sources) → repo and image. */
export function resolveName(s: Pick<CoreServices, 'config' | 'repos'>, host: string, name: string): { repo: string; image: string } | null {
  const t = resolveRoot(s, host, `/${name}/x`);
  return t ? { repo: t.repo, image: t.sub.slice(1, -2) } : null;
}
