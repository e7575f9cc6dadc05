import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Server } from './boot.ts';
import type { Action, Principal } from './auth/access.ts';
import { handleToken } from './auth/router.ts';
import { handleDocker } from './formats/docker/router.ts';
import type { DockerRepo } from './formats/docker/repo.ts';
import { DockerVirtual } from './formats/docker/virtual.ts';
import type { DockerRouterDeps } from './formats/docker/router.ts';
import { API_VERSION_HEADER, errorResponse, ociResponse } from './formats/docker/responses.ts';
import { resolveName, resolveRoot } from './routing.ts';
import type { Target } from './routing.ts';
import type { RequestInfo } from './runtime.ts';

/** A request that has passed more proxies than this is taken for a loop we cannot see. */
const MAX_HOPS = 16;

type Env = { Bindings: object | undefined; Variables: { info: RequestInfo } };

/**
 * The HTTP surface: /repo/<name>/... for every repo, and the root /v2/ that Docker clients insist on,
 * resolved by Host header, then by the first path segment (repository-path method), then by the
 * default repo. Paths are matched raw (percent-encoded): no valid name contains '%'.
 */
export function createApp(s: Server): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const info: RequestInfo = { client: s.runtime.clientAddress?.(c.req.raw, c.env) ?? '' };
    c.set('info', info);
    const t0 = performance.now();
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && !s.downloads.admits(info.client)) {
      info.error = 'too many open downloads from this client';
      c.res = ociResponse(429, 'TOOMANYREQUESTS', `more than ${s.config.http.maxDownloadsPerClient} downloads open from this address`, c.req.method === 'HEAD', { 'retry-after': '5' });
    } else {
      await next();
    }
    const res = c.res;
    const path = new URL(c.req.url).pathname;
    s.metrics.requests.inc({ repo: info.repo ?? '', method: c.req.method, status: String(res.status) });
    if (!s.config.log.requests) return;
    s.log.info('request', {
      repo: info.repo,
      user: info.user,
      client: info.client || undefined,
      method: c.req.method,
      path,
      status: res.status,
      bytes: Number(res.headers.get('content-length') ?? 0),
      ms: Math.round((performance.now() - t0) * 10) / 10,
      cache: info.cache,
      upstreamStatus: info.upstreamStatus,
      error: info.error,
    });
  });

  app.get('/-/health', (c) => c.json({ status: 'ok', server: s.serverId, runtime: s.runtime.name }));
  app.get('/metrics', (c) => c.text(s.metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));

  app.all('*', (c) => dispatch(c, s));
  return app;
}

function dispatch(c: Context<Env>, s: Server): Promise<Response> | Response {
  const req = c.req.raw;
  const info = c.get('info');
  const head = req.method === 'HEAD';
  const path = new URL(req.url).pathname;
  const via = (req.headers.get('via') ?? '').split(',').filter((v) => v.trim() !== '');
  if (via.some((v) => v.trim().split(/\s+/)[1] === s.serverId)) {
    return ociResponse(508, 'LOOP_DETECTED', 'request loop: this request already passed through this server', head);
  }
  if (via.length > MAX_HOPS) return ociResponse(508, 'LOOP_DETECTED', `request passed ${via.length} proxies; refusing a likely loop`, head);
  const host = hostOf(req);
  const tokenCtx = { bodyIdleMs: s.config.http.bodyIdleSeconds * 1000, address: info.client };
  if (path === '/token') return handleToken(req, s.access, (name) => resolveName(s, host, name), tokenCtx);
  const repoPath = /^\/repo\/([^/]+)(\/.*)?$/.exec(path);
  if (repoPath) {
    const name = repoPath[1] ?? '';
    const rest = repoPath[2] ?? '';
    const repo = s.repos.get(name);
    if (!repo) return c.json({ errors: [{ code: 'NAME_UNKNOWN', message: `no repository named ${name}` }] }, 404);
    if (rest === '/token') return handleToken(req, s.access, (image) => ({ repo: name, image }), tokenCtx);
    if (rest !== '/v2' && !rest.startsWith('/v2/')) {
      return ociResponse(404, 'NAME_UNKNOWN', 'docker repositories answer under /v2/', head);
    }
    return toRepo(s, req, { repo: name, sub: rest.slice(3), base: `/repo/${name}/v2`, namePrefix: '', tokenPath: `/repo/${name}/token` }, info);
  }
  if (path !== '/v2' && !path.startsWith('/v2/')) return c.json({ error: 'not found' }, 404);
  const target = resolveRoot(s, host, path.slice(3));
  if (target) return toRepo(s, req, target, info);
  if (path === '/v2' || path === '/v2/') {
    if (s.access.enabled) return rootPing(s, req, head, info);
    return new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } });
  }
  return ociResponse(404, 'NAME_UNKNOWN', 'no repository matches this path; use /v2/<repo>/<image>/...', head);
}

/** /v2/ with no repo behind it still answers the login check: 401 + challenge until authenticated. */
async function rootPing(s: Server, req: Request, head: boolean, info: RequestInfo): Promise<Response> {
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

function hostOf(req: Request): string {
  return (req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
}

async function toRepo(s: Server, req: Request, t: Target, info: RequestInfo): Promise<Response> {
  const repo = s.repos.get(t.repo);
  if (!repo) return ociResponse(404, 'NAME_UNKNOWN', `no repository named ${t.repo}`);
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
    const user = p === 'invalid' ? null : p.user;
    return d.restrictedTo((member) => s.access.can(user, member, 'pull'));
  };
  const docker = await view(repo.docker);
  const deps: DockerRouterDeps = {
    repo: docker,
    blobs: s.blobs,
    runtime: s.runtime,
    metrics: s.metrics,
    log: s.log,
    base: t.base,
    bodyIdleMs: s.config.http.bodyIdleSeconds * 1000,
    download: (body) => s.downloads.wrap(body, info.client),
    authorize: async (image, action) => {
      if (!s.access.enabled) return null;
      const ping = image === undefined && t.sub.replace(/\/$/, '') === '';
      const denial = s.access.decide(await who(), t.repo, image, action, ping);
      if (!denial) return null;
      info.error = denial.message;
      return { status: denial.status, message: denial.message, challenge: challenge(s, req, t, image, action, denial.error) };
    },
    notify: (action, repoName, image, target) => {
      if (!s.notifier.enabled) return;
      const ua = req.headers.get('user-agent');
      s.notifier.emit({
        action,
        repo: repoName,
        target: { ...target, ...(target.size !== undefined ? { length: target.size } : {}), repository: image, url: `${new URL(req.url).origin}${t.base}/${image}/manifests/${target.digest ?? target.tag ?? ''}` },
        request: { method: req.method, host: hostOf(req), ...(ua ? { useragent: ua } : {}) },
        actor: info.user ? { name: info.user } : {},
      });
    },
    mountSource: async (from) => {
      const src = t.namePrefix === '' && t.base.startsWith('/repo/') ? { repo: t.repo, image: from } : resolveName(s, hostOf(req), from);
      const p = await who();
      if (!src || p === 'invalid' || !s.access.can(p.user, src.repo, 'pull')) return null;
      const srcRepo = s.repos.get(src.repo);
      return srcRepo ? { repo: await view(srcRepo.docker), image: src.image } : null;
    },
    discoverBlob: async (digest) => {
      const p = await who();
      if (p === 'invalid') return false;
      // The repo pushed to first (the likeliest holder), then every other the caller may read.
      const order = [...s.repos.values()].sort((a, b) => Number(b.name === t.repo) - Number(a.name === t.repo));
      for (const r of order) {
        if (r.type === 'virtual' || !s.access.can(p.user, r.name, 'pull')) continue;
        if (await r.docker.holdsAnywhere(digest)) return true;
      }
      return false;
    },
  };
  return handleDocker(req, t.sub, deps, info);
}

/** The Bearer challenge: the realm on the same origin and path style the client used. */
function challenge(s: Server, req: Request, t: Target, image: string | undefined, action: Action, error: string | undefined): string {
  const url = new URL(req.url);
  const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() ?? url.protocol.replace(/:$/, '');
  const host = req.headers.get('x-forwarded-host') ?? req.headers.get('host') ?? url.host;
  const parts = [`realm="${proto}://${host}${t.tokenPath}"`, `service="${s.access.service}"`];
  if (image !== undefined) {
    parts.push(`scope="repository:${t.namePrefix}${image}:${action === 'push' ? 'pull,push' : action}"`);
  }
  if (error) parts.push(`error="${error}"`);
  return `Bearer ${parts.join(',')}`;
}
