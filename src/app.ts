import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Server } from './boot.ts';
import type { DockerRemote } from './formats/docker/remote.ts';
import { handleDocker } from './formats/docker/router.ts';
import type { DockerRouterDeps } from './formats/docker/router.ts';
import { API_VERSION_HEADER, ociResponse } from './formats/docker/responses.ts';
import type { RequestInfo } from './runtime.ts';

type Env = { Variables: { info: RequestInfo } };

/**
 * The HTTP surface: /repo/<name>/... for every repo, and the root /v2/ that Docker clients insist on,
 * resolved by Host header, then by the first path segment (repository-path method), then by the
 * default repo. Paths are matched raw (percent-encoded): no valid name contains '%'.
 */
export function createApp(s: Server): Hono<Env> {
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const info: RequestInfo = {};
    c.set('info', info);
    const t0 = performance.now();
    await next();
    const res = c.res;
    const path = new URL(c.req.url).pathname;
    s.metrics.requests.inc({ repo: info.repo ?? '', method: c.req.method, status: String(res.status) });
    if (!s.config.log.requests) return;
    s.log.info('request', {
      repo: info.repo,
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
  const via = req.headers.get('via');
  if (via && via.split(',').some((v) => v.trim().split(/\s+/)[1] === s.serverId)) {
    return ociResponse(508, 'LOOP_DETECTED', 'request loop: this server is its own upstream', head);
  }
  const repoPath = /^\/repo\/([^/]+)(\/.*)?$/.exec(path);
  if (repoPath) {
    const name = repoPath[1] ?? '';
    const rest = repoPath[2] ?? '';
    const repo = s.repos.get(name);
    if (!repo) return c.json({ errors: [{ code: 'NAME_UNKNOWN', message: `no repository named ${name}` }] }, 404);
    if (rest !== '/v2' && !rest.startsWith('/v2/')) {
      return ociResponse(404, 'NAME_UNKNOWN', 'docker repositories answer under /v2/', head);
    }
    info.repo = name;
    return handleDocker(req, rest.slice(3), dockerDeps(s, repo.remote), info);
  }
  if (path !== '/v2' && !path.startsWith('/v2/')) return c.json({ error: 'not found' }, 404);
  const sub = path.slice(3);
  const host = (req.headers.get('host') ?? '').replace(/:\d+$/, '').toLowerCase();
  const byHost = s.config.hosts[host];
  if (byHost) return toRepo(s, req, byHost, sub, info);
  if (sub === '' || sub === '/') {
    return new Response(head ? null : '{}', { headers: { ...API_VERSION_HEADER, 'content-type': 'application/json' } });
  }
  const first = /^\/([^/]+)(\/.*)$/.exec(sub);
  if (first?.[1] && first[2] && s.repos.has(first[1])) return toRepo(s, req, first[1], first[2], info);
  if (s.config.defaultRepo) return toRepo(s, req, s.config.defaultRepo, sub, info);
  return ociResponse(404, 'NAME_UNKNOWN', 'no repository matches this path; use /v2/<repo>/<image>/...', head);
}

function toRepo(s: Server, req: Request, name: string, sub: string, info: RequestInfo): Promise<Response> {
  const repo = s.repos.get(name);
  if (!repo) return Promise.resolve(ociResponse(404, 'NAME_UNKNOWN', `no repository named ${name}`));
  info.repo = name;
  return handleDocker(req, sub, dockerDeps(s, repo.remote), info);
}

function dockerDeps(s: Server, remote: DockerRemote): DockerRouterDeps {
  return { remote, blobs: s.blobs, runtime: s.runtime, metrics: s.metrics, log: s.log };
}
