import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Server } from './server.ts';
import type { Principal } from '../auth/access.ts';
import type { RequestInfo } from '../http/runtime.ts';
import { sameToken } from '../auth/session.ts';
import { adminEvict, adminGc, adminOffline, adminPin, adminRemove, adminRetention, adminYank, adminWarm, readableRepos, repoStatus } from './actions.ts';
import type { RepoStatus } from './actions.ts';
import { SwitchError } from '../formats/switches.ts';
import { tokenRoutes } from './tokens-api.ts';
import { readJsonBody } from '../util/streams.ts';

type ApiEnv = { Variables: { info: RequestInfo; user: string | null; principal: Principal | 'invalid' } };

/** The admin API's one error shape: `{"error": {"code": "...", "message": "..."}}`. */
export function apiError(status: number, code: string, message: string, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: { 'content-type': 'application/json', ...extra } });
}

const MAX_BODY = 64 * 1024;

/**
 * JSON under /api/v1, for scripts, the CLI and the UI: Basic or Bearer credentials (the same
 * users as the registries), or the UI's session cookie plus its CSRF token in `X-CSRF-Token` for
 * anything that changes state. Reading needs the repo's read permission; jobs need an admin.
 */
export function adminApi(s: Server): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();

  // Who is asking: Basic (a password, or an access token as the password), Bearer (an access token;
  // a registry token is refused for everything here by authorize), or the UI's session cookie.
  app.use('*', async (c, next) => {
    const info = c.get('info');
    const authz = c.req.header('authorization') ?? null;
    let p: Principal | 'invalid';
    if (authz) {
      p = await s.access.identify(authz, info.client).catch(() => 'invalid' as const);
      if (p === 'invalid') return apiError(401, 'UNAUTHORIZED', 'credentials were not accepted', { 'www-authenticate': `Basic realm="${s.access.service}"` });
      if (p.via === 'bearer') return apiError(403, 'DENIED', 'a registry token is good only for the registry scopes it names, never for the admin API');
    } else {
      const session = await s.sessions.open(c.req.header('cookie') ?? null);
      if (session && c.req.method !== 'GET' && !sameToken(c.req.header('x-csrf-token') ?? '', session.csrf)) {
        return apiError(403, 'CSRF', 'a session-authenticated change needs the X-CSRF-Token header');
      }
      p = session?.user ? { user: session.user, via: 'session' } : { user: null, via: 'none' };
    }
    c.set('principal', p);
    c.set('user', p.user);
    if (p.user) info.user = p.user;
    await next();
  });

  const needAdmin = (c: Context<ApiEnv>): Response | null => {
    const denial = s.access.authorizeAdmin(c.get('principal'));
    if (!denial) return null;
    return denial.status === 401
      ? apiError(401, 'UNAUTHORIZED', denial.message, { 'www-authenticate': `Basic realm="${s.access.service}"` })
      : apiError(403, 'DENIED', denial.message);
  };
  const statusOf = (name: string): RepoStatus | null => {
    const cfg = s.config.repos.find((r) => r.name === name);
    return cfg ? repoStatus(s, cfg) : null;
  };
  const dryRun = (c: Context<ApiEnv>): boolean | Response => {
    const v = c.req.query('dryRun') ?? c.req.query('dry_run');
    if (v === undefined || v === 'true' || v === '1') return true; // the safe default
    if (v === 'false' || v === '0') return false;
    return apiError(400, 'INVALID', 'dryRun must be true or false');
  };

  const readable = (c: Context<ApiEnv>): ReturnType<typeof readableRepos> => {
    const p = c.get('principal');
    return p === 'invalid' ? [] : readableRepos(s, p);
  };
  const members = (c: Context<ApiEnv>) => (m: string): boolean => s.access.mayRead(c.get('principal'), m);
  app.get('/repos', (c) => c.json({ repos: readable(c).map((r) => repoStatus(s, r, members(c))) }));
  app.get('/repos/:name', (c) => {
    const cfg = readable(c).find((r) => r.name === c.req.param('name'));
    return cfg ? c.json(repoStatus(s, cfg, members(c))) : apiError(404, 'NOT_FOUND', 'no repository of that name that you may read');
  });
  app.get('/stats', (c) => c.json({ samples: s.history.series() }));
  app.get('/reload', (c) => needAdmin(c) ?? c.json({ lastReload: s.lastReload ?? null }));
  app.get('/usage', async (c) => needAdmin(c) ?? c.json({ usage: await s.evictor.run(true) }));

  const job = (run: (user: string | null, dry: boolean) => Promise<unknown>) => async (c: Context<ApiEnv>) => {
    const refused = needAdmin(c);
    if (refused) return refused;
    const dry = dryRun(c);
    if (dry instanceof Response) return dry;
    return c.json({ dryRun: dry, report: await run(c.get('user'), dry) });
  };
  app.post('/gc', job((u, d) => adminGc(s, u, d)));
  app.post('/evict', job((u, d) => adminEvict(s, u, d)));
  app.post('/retention', job((u, d) => adminRetention(s, u, d)));

  app.post('/repos/:name/warm', async (c) => {
    const refused = needAdmin(c);
    if (refused) return refused;
    const len = Number(c.req.header('content-length') ?? NaN);
    if (!Number.isFinite(len) || len > MAX_BODY) return apiError(413, 'TOO_LARGE', `send a JSON body with Content-Length, at most ${MAX_BODY} bytes`);
    const body = await readJsonBody(c.req.raw, MAX_BODY, s.config.http.bodyIdleSeconds * 1000);
    const refs = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['refs'] : undefined;
    if (!Array.isArray(refs) || refs.length === 0 || refs.length > 100 || !refs.every((r) => typeof r === 'string')) {
      return apiError(400, 'INVALID', 'body must be {"refs": ["image:tag", ...]} with 1 to 100 references');
    }
    const repo = s.repos.get(c.req.param('name'));
    if (!repo?.warm) return apiError(404, 'NOT_FOUND', 'no remote repository of that name that can be warmed');
    const platform = (body as Record<string, unknown>)['platform'];
    const results = await adminWarm(s, c.get('user'), repo.name, refs as string[], typeof platform === 'string' ? platform : undefined);
    return c.json({ results }, results.every((r) => r['ok'] === true) ? 200 : 502);
  });

  app.post('/repos/:name/offline', async (c) => {
    const refused = needAdmin(c);
    if (refused) return refused;
    const v = c.req.query('on');
    const on = v === 'true' ? true : v === 'false' ? false : v === 'config' ? null : undefined;
    if (on === undefined) return apiError(400, 'INVALID', 'on must be true, false or config (back to the config file)');
    await adminOffline(s, c.get('user'), c.req.param('name'), on);
    return c.json(statusOf(c.req.param('name')));
  });
  app.post('/repos/:name/pins', async (c) => {
    const refused = needAdmin(c);
    if (refused) return refused;
    const pattern = c.req.query('pattern') ?? '';
    if (pattern === '' || pattern.length > 512) return apiError(400, 'INVALID', 'give ?pattern= (image:tag for Docker, a path pattern for generic files)');
    await adminPin(s, c.get('user'), c.req.param('name'), pattern, true);
    return c.json(statusOf(c.req.param('name')));
  });
  app.delete('/repos/:name/pins', async (c) => {
    const refused = needAdmin(c);
    if (refused) return refused;
    if (!(await adminPin(s, c.get('user'), c.req.param('name'), c.req.query('pattern') ?? '', false))) return apiError(404, 'NOT_FOUND', 'no such runtime pin (configured pins change in the config file)');
    return c.json(statusOf(c.req.param('name')));
  });

  // Content of a hosted repo, by the path the web UI names (the repo's delete permission, not admin).
  app.delete('/repos/:name/content', async (c) => {
    const r = await adminRemove(s, c.get('principal'), c.req.param('name'), c.req.query('path') ?? '');
    if (r.status === 200) return c.json({ removed: r.removed, parent: r.parent });
    return apiError(r.status, r.code, r.message, r.status === 401 ? { 'www-authenticate': `Basic realm="${s.access.service}"` } : {});
  });

  // Yank (PUT, with an optional ?reason=) and un-yank (DELETE) a version of a hosted repo (write permission).
  for (const method of ['put', 'delete'] as const) {
    app[method]('/repos/:name/yank', async (c) => {
      const reason = method === 'delete' ? null : c.req.query('reason') || true;
      const r = await adminYank(s, c.get('principal'), c.req.param('name'), c.req.query('path') ?? '', reason);
      if (r.status === 200) return c.json({ changed: r.changed, path: r.parent, yanked: reason !== null });
      return apiError(r.status, r.code, r.message, r.status === 401 ? { 'www-authenticate': `Basic realm="${s.access.service}"` } : {});
    });
  }

  tokenRoutes(app, s, apiError);

  app.all('*', () => apiError(404, 'NOT_FOUND', 'no such admin API endpoint; see docs/admin-api.md'));
  app.onError((e, c) => {
    if (e instanceof SwitchError) return apiError(400, 'INVALID', e.message);
    s.log.error('admin API error', { path: c.req.path, error: String(e) });
    return apiError(500, 'INTERNAL', 'the action failed; see the server log');
  });
  return app;
}
