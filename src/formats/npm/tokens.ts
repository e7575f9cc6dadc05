import { RegistryError } from '../../errors.ts';
import { repoBase } from '../../http/forwarded.ts';
import type { RequestContext } from '../format.ts';
import type { NpmView } from './view.ts';
import { json, smallBody } from './view.ts';

const DAY = 86_400_000;

/** The user an npm token command comes from (its _authToken or Basic credentials); anonymous is refused. */
async function who(req: Request, ctx: RequestContext): Promise<string> {
  const s = ctx.core;
  if (!s.access.enabled || !s.access.tokens) throw new RegistryError('unsupported', 'this server has no users; no token is needed', { code: 'UNSUPPORTED' });
  const p = await s.access.identify(req.headers.get('authorization'), ctx.info.client);
  if (p === 'invalid' || p.user === null || p.via === 'bearer') throw new RegistryError('unauthorized', 'log in first (npm login)', { code: 'UNAUTHORIZED' });
  ctx.info.user = p.user;
  return p.user;
}

/**
 * `npm token list | create | revoke` (`/-/npm/v1/tokens`) over the server's access tokens: a
 * user's tokens (all of them, as the UI lists them), a new one for this registry (read-only, or
 * read/write/delete; 90 days), revoking one of theirs. Creating asks for the password again, as
 * npm does, so a token alone cannot make more tokens (the admin API's rule too).
 */
export async function handleTokens(view: NpmView, req: Request, path: string, ctx: RequestContext): Promise<Response> {
  const m = req.method;
  const tokens = ctx.core.access.tokens;
  const user = await who(req, ctx);
  if (!tokens) throw new RegistryError('unsupported', 'no tokens here', { code: 'UNSUPPORTED' });
  if (path === '/npm/v1/tokens' && m === 'GET') {
    const list = await tokens.list(user);
    const objects = list.map((t) => ({
      key: t.id,
      token: `${t.id.slice(0, 6)}…`,
      name: t.name,
      readonly: t.actions.every((a) => a === 'read'),
      automation: false,
      cidr_whitelist: null,
      created: new Date(t.createdAt).toISOString(),
      updated: new Date(t.lastUsedAt ?? t.createdAt).toISOString(),
    }));
    return json({ objects, total: objects.length, urls: {} });
  }
  if (path === '/npm/v1/tokens' && m === 'POST') {
    const body = JSON.parse(new TextDecoder().decode(await smallBody(req, ctx, 64 << 10)) || 'null') as { password?: unknown; readonly?: unknown; cidr_whitelist?: unknown } | null;
    if (!body || typeof body.password !== 'string') throw new RegistryError('invalid', 'a token request is {"password", "readonly"}', { code: 'INVALID' });
    if (Array.isArray(body.cidr_whitelist) && body.cidr_whitelist.length > 0) throw new RegistryError('invalid', 'CIDR-restricted tokens are not supported here', { code: 'INVALID' });
    const p = await ctx.core.access.identify(`Basic ${btoa(`${user}:${body.password}`)}`, ctx.info.client);
    if (p === 'invalid' || p.user !== user || p.via !== 'basic') throw new RegistryError('unauthorized', 'wrong password', { code: 'UNAUTHORIZED' });
    const readonly = body.readonly === true;
    const t = await tokens.create({ user, name: `npm token ${new Date().toISOString().slice(0, 19)}`, repos: [view.name], actions: readonly ? ['read'] : ['read', 'write', 'delete'], ttlMs: 90 * DAY });
    return json({ token: t.token, key: t.info.id, readonly, cidr_whitelist: [], created: new Date(t.info.createdAt).toISOString() }, 200);
  }
  const del = /^\/npm\/v1\/tokens\/token\/([0-9a-f]{16})$/.exec(path);
  if (del?.[1] && m === 'DELETE') {
    if (!(await tokens.revoke(del[1], user))) throw new RegistryError('not_found', 'no token of yours with that key', { code: 'NOT_FOUND' });
    return new Response(null, { status: 204 });
  }
  throw new RegistryError('not_found', `no such endpoint: ${m} /-${path}`, { code: 'NOT_FOUND' });
}

/**
 * `npm login` (its default web flow): `POST /-/v1/login` starts a login the user approves in the
 * web UI (`loginUrl`), and npm polls `doneUrl` (202 with Retry-After until then) for the token.
 */
export async function webLogin(view: NpmView, req: Request, path: string, ctx: RequestContext): Promise<Response> {
  const logins = ctx.core.access.logins;
  if (!ctx.core.access.enabled || !logins) throw new RegistryError('unsupported', 'this server has no users to log in as; no token is needed', { code: 'UNSUPPORTED' });
  const base = repoBase(req, ctx.core.config.http, view.name);
  if (path === '/v1/login' && req.method === 'POST') {
    await req.body?.cancel();
    const started = await logins.start(view.name);
    if (!started) throw new RegistryError('unavailable', 'too many logins are waiting; try again in a few minutes', { retryAfter: 60 });
    const ui = base.replace(/\/repo\/[^/]+$/, '');
    return json({ loginUrl: `${ui}/ui/cli-login?id=${started.id}`, doneUrl: `${base}/-/v1/done?id=${started.id}&s=${encodeURIComponent(started.secret)}` });
  }
  if (path === '/v1/done' && req.method === 'GET') {
    const q = new URL(req.url).searchParams;
    const r = await logins.poll(q.get('id') ?? '', q.get('s') ?? '');
    if (r === null) throw new RegistryError('not_found', 'no such login waiting (it expired after ten minutes, or was collected)', { code: 'NOT_FOUND' });
    if (r === 'pending') return new Response(JSON.stringify({}), { status: 202, headers: { 'content-type': 'application/json', 'retry-after': '1' } });
    ctx.info.user = r.user;
    return json({ token: r.token });
  }
  throw new RegistryError('not_found', `no such endpoint: ${req.method} /-${path}`, { code: 'NOT_FOUND' });
}
