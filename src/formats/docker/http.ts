import type { Principal } from '../../auth/access.ts';
import type { Action } from '../../auth/access.ts';
import type { CoreServices, FormatRepo, RequestContext } from '../format.ts';
import type { RequestInfo } from '../../http/runtime.ts';
import type { DockerRepo } from './repo.ts';
import { API_VERSION_HEADER, errorResponse, ociResponse } from './responses.ts';
import { handleDocker } from './router.ts';
import type { DockerRouterDeps } from './router-deps.ts';
import { resolveName, resolveRoot } from './routing.ts';
import type { Target } from './routing.ts';
import { handleToken } from './token-route.ts';
import { DockerVirtual } from './virtual.ts';
import { clientOrigin } from '../../http/forwarded.ts';
import { servedCounter } from '../../http/serve-blob.ts';

/**
 * Docker's HTTP entry points on the format seam: everything under `/repo/<name>/` (`/v2/...` and
 * the token endpoint) and the host-root routes Docker clients insist on (`/v2/`, `/token`), which
 * resolve a repo by Host header, first path segment or the default repo (routing.ts).
 */

/** A configured repo that is a Docker one (the seam's handle carries its DockerRepo). */
export function dockerOf(r: FormatRepo | undefined): DockerRepo | undefined {
  return r?.format === 'docker' && 'docker' in r ? (r as FormatRepo & { docker: DockerRepo }).docker : undefined;
}

function tokenContext(s: CoreServices, info: RequestInfo): { bodyIdleMs: number; address: string } {
  return { bodyIdleMs: s.config.http.bodyIdleSeconds * 1000, address: info.client };
}

/** `/repo/<name><sub>` of a Docker repo. */
export function handleRepoPath(name: string, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const { core: s, info } = ctx;
  if (sub === '/token') return handleToken(req, s.access, (image) => ({ repo: name, image }), tokenContext(s, info));
  if (sub !== '/v2' && !sub.startsWith('/v2/')) {
    return Promise.resolve(ociResponse(404, 'NAME_UNKNOWN', 'docker repositories answer under /v2/', req.method === 'HEAD'));
  }
  return toRepo(s, req, { repo: name, sub: sub.slice(3), base: `/repo/${name}/v2`, namePrefix: '', tokenPath: `/repo/${name}/token` }, info);
}

/** The host-root routes: `/token` and `/v2/...`; null for any other path. */
export function dockerRootRoute(req: Request, path: string, ctx: RequestContext): Promise<Response> | null {
  const { core: s, info } = ctx;
  const head = req.method === 'HEAD';
  const host = hostOf(s, req);
  if (path === '/token') return handleToken(req, s.access, (name) => resolveName(s, host, name), tokenContext(s, info));
  if (path !== '/v2' && !path.startsWith('/v2/')) return null;
  const target = resolveRoot(s, host, path.slice(3));
  if (target) return toRepo(s, req, target, info);
  if (path === '/v2' || path === '/v2/') {
    if (s.access.enabled) return rootPing(s, req, head, info);
    return Promise.resolve(new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } }));
  }
  // An anonymous caller is asked to log in whether or not the name exists, as for an unreadable repo.
  if (s.access.enabled && !req.headers.get('authorization')) {
    const t: Target = { repo: '', sub: '', base: '/v2', namePrefix: '', tokenPath: '/token' };
    return Promise.resolve(ociResponse(401, 'UNAUTHORIZED', 'authentication required', head, { 'www-authenticate': challenge(s, req, t, undefined, 'pull', undefined) }));
  }
  return Promise.resolve(ociResponse(404, 'NAME_UNKNOWN', 'no repository matches this path; use /v2/<repo>/<image>/...', head));
}

/** /v2/ with no repo behind it still answers the login check: 401 + challenge until authenticated. */
async function rootPing(s: CoreServices, req: Request, head: boolean, info: RequestInfo): Promise<Response> {
  let p: Principal | 'invalid';
  try {
    p = await s.access.identify(req.headers.get('authorization'), info.client);
  } catch (e) {
    return errorResponse(e, info, s.log, head);
  }
  if (p !== 'invalid' && p.via !== 'none') return new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } });
  const t: Target = { repo: '', sub: '', base: '/v2', namePrefix: '', tokenPath: '/token' };
  return ociResponse(401, 'UNAUTHORIZED', 'authentication required', head, { 'www-authenticate': challenge(s, req, t, undefined, 'pull', undefined) });
}

function hostOf(s: CoreServices, req: Request): string {
  return clientOrigin(req, s.config.http.trustProxy).host.toLowerCase();
}

async function toRepo(s: CoreServices, req: Request, t: Target, info: RequestInfo): Promise<Response> {
  const repo = dockerOf(s.repos.get(t.repo));
  if (!repo) {
    if (s.access.enabled && !req.headers.get('authorization')) return ociResponse(401, 'UNAUTHORIZED', 'authentication required', req.method === 'HEAD', { 'www-authenticate': challenge(s, req, t, undefined, 'pull', undefined) });
    return ociResponse(404, 'NAME_UNKNOWN', `no Docker repository named ${t.repo}`);
  }
  info.repo = t.repo;
  let principal: Principal | 'invalid' | undefined;
  const who = async (): Promise<Principal | 'invalid'> => {
    principal ??= await s.access.identify(req.headers.get('authorization'), info.client);
    if (principal !== 'invalid' && principal.user !== null) info.user = principal.user;
    return principal;
  };
  // Through a virtual repo a caller sees only the members they may read themselves (pulls and mounts).
  const view = async (d: DockerRepo): Promise<DockerRepo> => {
    if (!s.access.enabled || !(d instanceof DockerVirtual)) return d;
    const p = await who();
    return d.restrictedTo((member) => s.access.mayRead(p, member));
  };
  const docker = await view(repo);
  const deps: DockerRouterDeps = {
    repo: docker,
    blobs: s.blobs,
    runtime: s.runtime,
    metrics: s.metrics,
    log: s.log,
    base: t.base,
    bodyIdleMs: s.config.http.bodyIdleSeconds * 1000,
    downloads: s.downloads,
    client: info.client,
    env: info.env,
    served: servedCounter(s.metrics, info),
    authorize: async (image, action) => {
      if (!s.access.enabled) return null;
      const ping = image === undefined && t.sub.replace(/\/$/, '') === '';
      const p = await who();
      // The /v2/ ping only asks whether the client authenticated at all (the login check).
      const denial = ping && p !== 'invalid'
        ? p.via === 'none' ? { status: 401 as const, message: 'authentication required' } : null
        : s.access.authorize(p, t.repo, action, image === undefined ? { kind: 'listing' } : { kind: 'image', name: image });
      if (!denial) return null;
      info.error = denial.message;
      if (denial.status === 404) return { status: 404, message: denial.message };
      return { status: denial.status, message: denial.message, challenge: challenge(s, req, t, image, action, denial.error) };
    },
    notify: (action, repoName, image, target) => {
      if (!s.notifier.enabled) return;
      const ua = req.headers.get('user-agent');
      s.notifier.emit({
        action,
        repo: repoName,
        format: 'docker',
        target: { ...target, ...(target.size !== undefined ? { length: target.size } : {}), repository: image, url: `${new URL(req.url).origin}${t.base}/${image}/manifests/${target.digest ?? target.tag ?? ''}` },
        request: { method: req.method, host: hostOf(s, req), ...(ua ? { useragent: ua } : {}) },
        actor: info.user ? { name: info.user } : {},
      });
    },
    mountSource: async (from) => {
      const src = t.namePrefix === '' && t.base.startsWith('/repo/') ? { repo: t.repo, image: from } : resolveName(s, hostOf(s, req), from);
      const p = await who();
      // Mounting reads the source: the caller's credential must allow a pull there (a registry token: of that image).
      if (!src || s.access.authorize(p, src.repo, 'pull', { kind: 'image', name: src.image }) !== null) return null;
      const srcRepo = dockerOf(s.repos.get(src.repo));
      return srcRepo ? { repo: await view(srcRepo), image: src.image } : null;
    },
    discoverBlob: async (digest) => {
      const p = await who();
      if (p === 'invalid') return false;
      // The repo pushed to first (the likeliest holder), then every other the caller may read.
      const order = [...s.repos.values()].sort((a, b) => Number(b.name === t.repo) - Number(a.name === t.repo));
      for (const r of order) {
        const d = dockerOf(r);
        if (!d || r.type === 'virtual' || !s.access.mayRead(p, r.name)) continue;
        if (await d.holdsAnywhere(digest)) return true;
      }
      return false;
    },
  };
  return handleDocker(req, t.sub, deps, info);
}

/** The Bearer challenge: the realm on the same origin and path style the client used. */
function challenge(s: CoreServices, req: Request, t: Target, image: string | undefined, action: Action, error: string | undefined): string {
  const parts = [`realm="${clientOrigin(req, s.config.http.trustProxy).origin}${t.tokenPath}"`, `service="${s.access.service}"`];
  if (image !== undefined) {
    parts.push(`scope="repository:${t.namePrefix}${image}:${action === 'push' ? 'pull,push' : action}"`);
  }
  if (error) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(',')}`;
}
