import { RegistryError } from '../../errors.ts';
import { basicAccess } from '../basic-access.ts';
import type { RequestContext } from '../format.ts';
import type { NpmView } from './view.ts';
import { json, smallBody } from './view.ts';
import { checkName } from './names.ts';
import { handleTokens, webLogin } from './tokens.ts';

/** The audit answer when no upstream can be asked: "nothing known", at once (npm waits on anything else). */
const NO_ADVISORIES = {};

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RegistryError('invalid', 'malformed percent-encoding', { code: 'INVALID' });
  }
};

/**
 * The registry's `/-/` endpoints: ping, whoami, legacy login (a password exchanged for an access
 * token), `npm token` (tokens.ts), search, dist-tags, and `npm audit` / signature keys forwarded to the upstream.
 */
export async function handleSpecial(view: NpmView, req: Request, path: string, ctx: RequestContext): Promise<Response> {
  const m = req.method;
  const s = ctx.core;
  const head = m === 'HEAD';
  if (path === '/ping' && (m === 'GET' || head)) {
    await basicAccess(ctx, req, view.name, 'pull');
    return json({}, 200, head);
  }
  if (path === '/whoami' && m === 'GET') {
    const p = s.access.enabled ? await s.access.identify(req.headers.get('authorization'), ctx.info.client) : 'invalid';
    if (p === 'invalid' || p.user === null) throw new RegistryError('unauthorized', 'not logged in: set an _authToken for this registry', { code: 'UNAUTHORIZED' });
    return json({ username: p.user });
  }
  if (path === '/npm/v1/tokens' || path.startsWith('/npm/v1/tokens/')) return handleTokens(view, req, path, ctx);
  if (path === '/v1/login' || path === '/v1/done') return webLogin(view, req, path, ctx);
  const login = /^\/user\/org\.couchdb\.user:([^/]+)$/.exec(path);
  if (login && m === 'PUT') return legacyLogin(view, req, decode(login[1] ?? ''), ctx);
  if (path.startsWith('/v1/search') && (m === 'GET' || head)) {
    await basicAccess(ctx, req, view.name, 'pull');
    const q = new URL(req.url).searchParams;
    const size = Math.min(250, Math.max(1, Number(q.get('size') ?? 20) || 20));
    const hits = await view.reader.search(q.get('text') ?? '', size, req.headers.get('via') ?? undefined);
    const objects = hits.map((h) => ({ package: { ...h, links: {} }, score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } }, searchScore: 1 }));
    return json({ objects, total: objects.length, time: new Date(0).toUTCString() }, 200, head);
  }
  if ((path === '/npm/v1/security/advisories/bulk' || path === '/npm/v1/security/audits/quick') && m === 'POST') {
    await basicAccess(ctx, req, view.name, 'pull');
    return forward(view, req, path, ctx, 'POST');
  }
  if (path === '/npm/v1/keys' && m === 'GET') {
    await basicAccess(ctx, req, view.name, 'pull');
    return forward(view, req, path, ctx, 'GET');
  }
  const tags = /^\/package\/(@[^/]+\/[^/]+|@[^/]+%2[fF][^/]+|[^/@][^/]*)\/dist-tags(?:\/([^/]+))?$/.exec(path);
  if (tags) {
    const name = checkName(decode(tags[1] ?? ''));
    const tag = tags[2] === undefined ? undefined : decode(tags[2]);
    if (m === 'GET') {
      await basicAccess(ctx, req, view.name, 'pull');
      return json((await (await view.reader.packument(name, {})).doc())['dist-tags']);
    }
    const writer = view.writer;
    if (!writer) throw new RegistryError('unsupported', `repository ${view.name} takes no publishes`);
    if (tag === undefined) throw new RegistryError('not_found', 'PUT or DELETE /-/package/<name>/dist-tags/<tag>', { code: 'NOT_FOUND' });
    if (m === 'PUT') {
      await basicAccess(ctx, req, view.name, 'push');
      const v = JSON.parse(new TextDecoder().decode(await smallBody(req, ctx, 4096)) || 'null') as unknown;
      if (typeof v !== 'string') throw new RegistryError('invalid', 'the body of a dist-tag PUT is a JSON string (the version)', { code: 'INVALID' });
      await writer.setTag(name, tag, v);
      return json({ ok: true }, 201);
    }
    if (m === 'DELETE') {
      await basicAccess(ctx, req, view.name, 'push');
      await writer.setTag(name, tag, null);
      return json({ ok: true });
    }
  }
  throw new RegistryError('not_found', `no such endpoint: ${m} /-${path}`, { code: 'NOT_FOUND' });
}

/** An audit query or the keys, forwarded to the upstream; without one, "no advisories" (audit) or 404 (keys). */
async function forward(view: NpmView, req: Request, path: string, ctx: RequestContext, method: 'GET' | 'POST'): Promise<Response> {
  const body = method === 'POST' ? await smallBody(req, ctx, 8 << 20) : undefined;
  const up = view.upstream;
  if (!up) {
    if (method === 'GET') throw new RegistryError('not_found', 'this registry has no signing keys', { code: 'NOT_FOUND' });
    return json(NO_ADVISORIES);
  }
  const headers: Record<string, string> = { 'content-type': req.headers.get('content-type') ?? 'application/json' };
  const enc = req.headers.get('content-encoding');
  if (enc) headers['content-encoding'] = enc;
  try {
    const res = await up.request({ method, path: `/-${path}`, scope: '', via: req.headers.get('via') ?? undefined, headers, ...(body ? { body } : {}) });
    const text = await new Response(res.body).arrayBuffer();
    if (res.status === 200) return new Response(text, { headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
    if (method === 'POST') return json(NO_ADVISORIES);
    return new Response(text, { status: res.status, headers: { 'content-type': 'application/json' } });
  } catch (e) {
    // An upstream that cannot answer must not make npm audit wait or fail an install.
    if (method === 'POST') return json(NO_ADVISORIES);
    throw e;
  }
}

/** `npm login --auth-type=legacy`: the user's password, exchanged for a 90-day access token for this repo. */
async function legacyLogin(view: NpmView, req: Request, user: string, ctx: RequestContext): Promise<Response> {
  const s = ctx.core;
  const doc = JSON.parse(new TextDecoder().decode(await smallBody(req, ctx, 64 << 10)) || 'null') as { name?: unknown; password?: unknown } | null;
  const tokens = s.access.tokens;
  if (!s.access.enabled || !tokens) throw new RegistryError('unsupported', 'this server has no users to log in as; no token is needed', { code: 'UNSUPPORTED' });
  if (!doc || typeof doc.password !== 'string' || (doc.name !== undefined && doc.name !== user)) throw new RegistryError('invalid', 'a login document is {"name", "password"}', { code: 'INVALID' });
  const p = await s.access.identify(`Basic ${btoa(`${user}:${doc.password}`)}`, ctx.info.client);
  if (p === 'invalid' || p.user !== user) throw new RegistryError('unauthorized', 'wrong user name or password', { code: 'UNAUTHORIZED' });
  const t = await tokens.create({ user, name: `npm login ${new Date().toISOString().slice(0, 19)}`, repos: [view.name], actions: ['read', 'write', 'delete'], ttlMs: 90 * 86_400_000 });
  ctx.info.user = user;
  return json({ ok: true, id: `org.couchdb.user:${user}`, token: t.token }, 201);
}
