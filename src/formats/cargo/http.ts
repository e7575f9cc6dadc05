import { RegistryError } from '../../errors.ts';
import { repoBase } from '../../http/forwarded.ts';
import { RenderedCache } from '../../http/rendered.ts';
import { idleTimeoutBody, readLimited } from '../../util/streams.ts';
import type { Action, Principal } from '../../auth/access.ts';
import { basicAccess, memberReadable } from '../basic-access.ts';
import { docAnswer } from '../doc-answer.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';
import { cachedFileAnswer } from '../file-answer.ts';
import type { RequestContext } from '../format.ts';
import type { Actor, CargoLocal } from './local.ts';
import { checkName, checkVersion, nameOfIndexPath } from './names.ts';
import type { CargoReader } from './reader.ts';
import { CargoVirtual } from './virtual.ts';

export interface CargoView {
  name: string;
  reader: CargoReader;
  /** Where publishes, yanks and owner changes go: the local repo itself, or a virtual repo's deployTo. */
  writer: CargoLocal | undefined;
}

/** Errors as the registry web API answers them; cargo prints each `detail`. */
const jsonShape: ErrorShape = (err) => ({ type: 'application/json', body: JSON.stringify({ errors: [{ detail: err.message }] }) });
const rendered = new RenderedCache(2000, 128 << 20);
const json = (value: unknown, status = 200): Response => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

/** `/repo/<name><sub>` of a Cargo repo: the sparse index under `/index/`, downloads and the web API under `/api/v1/`. */
export async function handleCargo(view: CargoView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  try {
    return await route(view, req, sub, ctx);
  } catch (e) {
    return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, req.method === 'HEAD', jsonShape);
  }
}

const segment = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RegistryError('invalid', 'a path segment is not valid percent-encoding');
  }
};

async function access(view: CargoView, req: Request, ctx: RequestContext, action: Action): Promise<Principal> {
  const login = `${repoBase(req, ctx.core.config.http, view.name).replace(/\/repo\/[^/]+$/, '')}/ui/tokens`;
  return basicAccess(ctx, req, view.name, action, `Cargo login_url="${login}"`);
}

async function route(view: CargoView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const m = req.method;
  const read = m === 'GET' || m === 'HEAD';
  if (sub.startsWith('/index/')) {
    if (!read) throw new RegistryError('unsupported', 'the index is read-only (publish with cargo publish)');
    const who = await access(view, req, ctx, 'pull');
    return indexFile(view, req, sub.slice(7), ctx, who);
  }
  const parts = sub.split('/').slice(1).map(segment);
  if (parts[0] !== 'api' || parts[1] !== 'v1' || parts[2] !== 'crates') throw new RegistryError('not_found', `no such Cargo registry path: ${sub.slice(0, 200)} (the index is at /repo/${view.name}/index/)`, { code: 'NOT_FOUND' });
  const [, , , name, vers, what] = parts;
  if (name === undefined && read) {
    await access(view, req, ctx, 'pull');
    const q = new URL(req.url).searchParams;
    const max = Math.min(100, Math.max(1, Number(q.get('per_page') ?? 10) || 10));
    const hits = await view.reader.search((q.get('q') ?? '').slice(0, 200), max);
    return json({ crates: hits, meta: { total: hits.length } });
  }
  if (name === 'new' && vers === undefined && m === 'PUT') return publish(view, req, ctx);
  if (name !== undefined && vers !== undefined && what === 'download' && parts.length === 6 && read) {
    const who = await access(view, req, ctx, 'pull');
    const reader = restricted(view, ctx, who);
    const f = await reader.crate(checkName(name), checkVersion(vers), req.headers.get('via') ?? undefined);
    return cachedFileAnswer(req, f, ctx, 'application/x-tar', { 'content-disposition': `attachment; filename="${name}-${vers}.crate"` });
  }
  if (name !== undefined && vers !== undefined && ((what === 'yank' && m === 'DELETE') || (what === 'unyank' && m === 'PUT')) && parts.length === 6) {
    const writer = await writable(view, req, ctx, 'delete');
    await writer.local.setYanked(checkName(name), checkVersion(vers), what === 'yank', writer.actor);
    notifyChange(ctx, req, 'delete', 'cargo', { repository: name, tag: vers, path: `/api/v1/crates/${name}/${vers}/${what}` });
    return json({ ok: true });
  }
  if (name !== undefined && vers === 'owners' && parts.length === 5) {
    checkName(name);
    if (read) {
      await access(view, req, ctx, 'pull');
      const local = view.writer;
      if (!local) throw new RegistryError('not_found', `repository ${view.name} keeps no owners (it hosts no crates)`, { code: 'NOT_FOUND' });
      return json({ users: (await local.owners(name)).map((login, i) => ({ id: i + 1, login, name: login })) });
    }
    if (m !== 'PUT' && m !== 'DELETE') throw new RegistryError('unsupported', `${m} is not allowed on owners`);
    const writer = await writable(view, req, ctx, 'push');
    const body = JSON.parse(new TextDecoder().decode(await readLimited(req.body, 64 << 10, 30_000, 'request body')).trim() || '{}') as { users?: unknown };
    const users = Array.isArray(body.users) ? body.users.filter((u): u is string => typeof u === 'string') : [];
    if (users.length === 0) throw new RegistryError('invalid', 'name the owners as {"users": ["login"]}');
    const owners = await writer.local.changeOwners(name, users, m === 'PUT', writer.actor, (l) => !ctx.core.access.enabled || ctx.core.access.knows(l));
    return json({ ok: true, msg: `owners of ${name}: ${owners.join(', ')}` });
  }
  throw new RegistryError('not_found', `no such Cargo web API call: ${m} ${sub.slice(0, 200)}`, { code: 'NOT_FOUND' });
}

function restricted(view: CargoView, ctx: RequestContext, who: Principal): CargoReader {
  return ctx.core.access.enabled && view.reader instanceof CargoVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
}

async function indexFile(view: CargoView, req: Request, path: string, ctx: RequestContext, who: Principal): Promise<Response> {
  if (path === 'config.json') {
    const base = repoBase(req, ctx.core.config.http, view.name);
    // Cargo sends its token to the index and downloads only when the registry says it needs one.
    const authRequired = ctx.core.access.enabled && ctx.core.access.authorize({ user: null, via: 'none' }, view.name, 'pull') !== null;
    const body = JSON.stringify({ dl: `${base}/api/v1/crates`, api: base, ...(authRequired ? { 'auth-required': true } : {}) });
    return new Response(req.method === 'HEAD' ? null : body, { headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' } });
  }
  const lower = nameOfIndexPath(path);
  if (lower === null) throw new RegistryError('not_found', `not an index file: ${path.slice(0, 200)}`, { code: 'NOT_FOUND' });
  const a = await restricted(view, ctx, who).index(lower, { via: req.headers.get('via') ?? undefined });
  return docAnswer(req, ctx, { etag: a.etag, modified: a.modified, cache: a.cache, type: 'text/plain; charset=utf-8', bytes: async () => a.bytes }, rendered);
}

async function writable(view: CargoView, req: Request, ctx: RequestContext, action: Action): Promise<{ local: CargoLocal; actor: Actor }> {
  const who = await access(view, req, ctx, action);
  const local = view.writer;
  if (!local) throw new RegistryError('unsupported', `repository ${view.name} takes no publishes (remote, or virtual without deployTo)`);
  return { local, actor: { user: who.user, admin: ctx.core.access.enabled && ctx.core.access.isAdmin(who.user) } };
}

async function publish(view: CargoView, req: Request, ctx: RequestContext): Promise<Response> {
  const { local, actor } = await writable(view, req, ctx, 'push');
  if (!req.body) throw new RegistryError('invalid', 'a publish needs a body', { code: 'INVALID_CRATE' });
  const body = idleTimeoutBody(req.body, ctx.core.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid');
  const { entry: e, size } = await local.publish(body, actor);
  notifyChange(ctx, req, 'push', 'cargo', { repository: e.name, tag: e.vers, digest: `sha256:${e.cksum}`, size, mediaType: 'application/x-tar', path: `/api/v1/crates/${e.name}/${e.vers}/download` });
  return json({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } });
}
