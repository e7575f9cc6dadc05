import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Server } from './boot.ts';
import type { RequestContext } from './formats/format.ts';
import { FORMATS } from './formats/registry.ts';
import type { RequestInfo } from './http/runtime.ts';
import { uiApp } from './ui/routes.ts';
import { adminApi } from './admin/api.ts';
import { safeContent } from './http/content-safety.ts';
import { BodyAdmission } from './http/body-admission.ts';

/** A request that has passed more proxies than this is taken for a loop we cannot see. */
const MAX_HOPS = 16;

type Env = { Bindings: object | undefined; Variables: { info: RequestInfo } };

/**
 * The HTTP surface, format-neutral: /repo/<name>/... goes to that repo's format, other paths to the
 * host-root routes formats declare (Docker's /v2/ and /token). Paths are matched raw
 * (percent-encoded); each format validates its own names.
 */
export function createApp(s: Server): Hono<Env> {
  const app = new Hono<Env>();
  const bodies = new BodyAdmission(s.config.http.maxBodiesPerClient);

  app.use('*', async (c, next) => {
    const info: RequestInfo = { client: s.runtime.clientAddress?.(c.req.raw, c.env) ?? '', env: c.env };
    c.set('info', info);
    const t0 = performance.now();
    s.history.maybeSample();
    const m = c.req.method;
    const release = m === 'POST' || m === 'PUT' || m === 'PATCH' ? bodies.admit(info.client) : undefined;
    if ((m === 'GET' || m === 'HEAD') && !s.downloads.admits(info.client)) {
      info.error = 'too many open downloads from this client';
      c.res = jsonError(429, 'TOOMANYREQUESTS', `more than ${s.config.http.maxDownloadsPerClient} downloads open from this address`, c.req.raw);
      c.res.headers.set('retry-after', '5');
    } else if (release === null) {
      info.error = 'too many requests with bodies in flight from this client';
      c.res = jsonError(429, 'TOOMANYREQUESTS', `more than ${s.config.http.maxBodiesPerClient} uploads in flight from this address`, c.req.raw);
      c.res.headers.set('retry-after', '5');
      c.res.headers.set('connection', 'close');
    } else {
      if (release) s.metrics.bodiesInFlight.inc();
      try {
        await next();
      } finally {
        if (release) s.metrics.bodiesInFlight.dec();
        release?.();
      }
    }
    const res = c.res;
    // A client that went away before its answer is not a server error nor a bad request: logged
    // (and counted) as nginx's 499, once, with what happened (issue 24, 29).
    const gone = res.status >= 400 && c.req.raw.signal.aborted;
    const status = gone ? 499 : res.status;
    if (gone) info.error = `client closed the request${info.error ? ` (${info.error})` : ''}`;
    s.metrics.requests.inc({ repo: info.repo ?? '', method: c.req.method, status: String(status) });
    if (!s.config.log.requests) return;
    s.log.info('request', {
      repo: info.repo,
      user: info.user,
      client: info.client || undefined,
      method: c.req.method,
      path: rawPath(c.req.url),
      status,
      bytes: Number(res.headers.get('content-length') ?? 0),
      ms: Math.round((performance.now() - t0) * 10) / 10,
      cache: info.cache,
      upstreamStatus: info.upstreamStatus,
      error: info.error,
    });
  });

  app.get('/-/health', (c) => c.json({ status: 'ok', server: s.serverId, runtime: s.runtime.name }));
  app.get('/metrics', async (c) => {
    const need = s.config.metrics.access;
    if (s.access.enabled && need !== 'public') {
      const p = await s.access.identify(c.req.header('authorization') ?? null, c.get('info').client).catch(() => 'invalid' as const);
      const denial = need === 'admin' ? s.access.authorizeAdmin(p) : s.access.authorizeUser(p);
      if (denial) {
        return new Response(`${denial.message}\n`, { status: denial.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...(denial.status === 401 ? { 'www-authenticate': `Basic realm="${s.access.service}"` } : {}) } });
      }
    }
    return c.text(s.metrics.registry.render(), 200, { 'content-type': 'text/plain; version=0.0.4' });
  });

  app.get('/ui', (c) => c.redirect('/ui/', 301));
  app.route('/ui/', uiApp(s));
  app.route('/api/v1', adminApi(s));
  app.all('*', (c) => dispatch(c, s));
  return app;
}

function dispatch(c: Context<Env>, s: Server): Promise<Response> | Response {
  const req = c.req.raw;
  const info = c.get('info');
  const path = rawPath(req.url);
  const via = (req.headers.get('via') ?? '').split(',').filter((v) => v.trim() !== '');
  if (via.some((v) => v.trim().split(/\s+/)[1] === s.serverId)) {
    return jsonError(508, 'LOOP_DETECTED', 'request loop: this request already passed through this server', req);
  }
  if (via.length > MAX_HOPS) return jsonError(508, 'LOOP_DETECTED', `request passed ${via.length} proxies; refusing a likely loop`, req);
  const ctx: RequestContext = { core: s, info };
  const repoPath = /^\/repo\/([^/]+)(\/.*)?$/.exec(path);
  if (repoPath) {
    const name = repoPath[1] ?? '';
    const repo = s.repos.get(name);
    if (!repo) {
      // With auth on, an anonymous caller learns nothing from a name: an unknown repo asks for
      // credentials as an unreadable one does (issue 24, 25).
      if (s.access.enabled && !req.headers.get('authorization')) {
        const res = jsonError(401, 'UNAUTHORIZED', 'authentication required', req);
        res.headers.set('www-authenticate', `Basic realm="${s.access.service}"`);
        return res;
      }
      return jsonError(404, 'NAME_UNKNOWN', `no repository named ${name}`, req);
    }
    info.repo = name;
    info.format = repo.format;
    return repo.handle(req, repoPath[2] ?? '', ctx).then(safeContent);
  }
  // Routes at the host root that a format's clients insist on (Docker's /v2/ and /token).
  for (const f of FORMATS) {
    const answer = f.rootRoute?.(req, path, ctx);
    if (answer) return answer.then(safeContent);
  }
  // A person who opens the server's address in a browser wants the UI, not a registry error.
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD') && (req.headers.get('accept') ?? '').includes('text/html')) {
    return new Response(null, { status: 302, headers: { location: '/ui/' } });
  }
  return jsonError(404, 'NOT_FOUND', 'not found; repositories answer under /repo/<name>/', req);
}

/** An error before any format is involved: the `{errors: [...]}` envelope every format's clients read. */
function jsonError(status: number, code: string, message: string, req: Request): Response {
  const body = req.method === 'HEAD' ? null : JSON.stringify({ errors: [{ code, message, detail: null }] });
  return new Response(body, { status, headers: { 'content-type': 'application/json' } });
}

/**
 * The raw (percent-encoded) pathname of an absolute URL, without building a URL object on every
 * request; Hono's `c.req.path` decodes percent-escapes, which the formats must see undecoded.
 */
export function rawPath(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  if (start < 0) return '/';
  let end = url.indexOf('?', start);
  if (end < 0) end = url.indexOf('#', start);
  return url.slice(start, end < 0 ? undefined : end);
}
