import { RegistryError } from '../../errors.ts';
import { serveBlob, serveDeps } from '../../http/serve-blob.ts';
import { actionOf, basicAccess, memberReadable } from '../basic-access.ts';
import type { RequestContext } from '../format.ts';
import type { GoWriter } from './local.ts';
import { escapeCase, parseGoPath } from './module.ts';
import type { GoAnswer, GoReader } from './remote.ts';
import { GoVirtual } from './virtual.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';

const TYPES = { info: 'application/json', mod: 'text/plain; charset=utf-8', zip: 'application/zip' } as const;

/**
 * Errors as the go command reads them: plain text. 404 and 410 make it try the next proxy of its
 * GOPROXY list; so does 400 for a path it should not have asked (a malformed module or version).
 */
/** The go command shows a proxy's error body as it is: plain text, one line. */
export const goShape: ErrorShape = (err) => ({ type: 'text/plain; charset=utf-8', body: `${err.message}\n` });

function errorText(e: unknown, ctx: RequestContext, head: boolean, extra: Record<string, string> = {}): Response {
  return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, head, goShape, { extra });
}

/** `/repo/<name><sub>` of a Go repo: the GOPROXY protocol (read-only for remote and virtual repos). */
export async function handleGo(name: string, reader: GoReader, writer: GoWriter | undefined, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const head = req.method === 'HEAD';
  const s = ctx.core;
  try {
    const action = actionOf(req.method);
    if (!action || (action !== 'pull' && !writer)) {
      return errorText(new RegistryError('unsupported', `${req.method} is not allowed here${writer ? '' : ' (remote, or virtual without deployTo)'}`), ctx, head, { allow: writer ? 'GET, HEAD, PUT, DELETE' : 'GET, HEAD' });
    }
    const who = await basicAccess(ctx, req, name, action);
    const route = parseGoPath(sub);
    // Through a virtual repo a caller sees only the members they may read themselves.
    const view = s.access.enabled && reader instanceof GoVirtual ? reader.restrictedTo(memberReadable(ctx, who)) : reader;
    if (route?.kind === 'sumdb') {
      if (action !== 'pull') throw new RegistryError('unsupported', 'a checksum database is read-only', { code: 'UNSUPPORTED' });
      return await sumdb(view, route.rest, req, ctx);
    }
    if (!route) throw new RegistryError('not_found', `not found: ${sub} is no GOPROXY path this repository serves`, { code: 'NOT_FOUND' });
    if (action !== 'pull') {
      if (route.kind !== 'file' || !writer) throw new RegistryError('unsupported', 'uploads go to <module>/@v/<version>.zip (.mod, .info)', { code: 'UNSUPPORTED' });
      if (action === 'delete') {
        await writer.delete(route.module, route.version);
        notifyChange(ctx, req, 'delete', 'go', { repository: route.module, tag: route.version });
        return new Response(null, { status: 204 });
      }
      const r = await writer.put(route.module, route.version, route.ext, req.body);
      // A version is published when its zip lands (a .mod or .info alone is staged).
      if (r.published) notifyChange(ctx, req, 'push', 'go', { repository: route.module, tag: route.version, path: `/${escapeCase(route.module)}/@v/${escapeCase(route.version)}.zip` });
      return new Response(`${r.published ? 'published' : 'staged'} ${route.module}@${route.version}.${route.ext}\n`, { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    const via = req.headers.get('via') ?? undefined;
    if (route.kind === 'list') return text(await view.list(route.module, via), 'text/plain; charset=utf-8', ctx, head);
    if (route.kind === 'latest') return text(await view.latest(route.module, via), 'application/json', ctx, head);
    const a = await view.file(route.module, route.version, route.ext, via);
    return await answer(req, a, TYPES[route.ext], ctx);
  } catch (e) {
    return errorText(e, ctx, head);
  }
}

/**
 * `/sumdb/<name>/…`: the go command asks `supported` first and uses this proxy for the database
 * when it answers 200; a 404 sends it to the database directly (or to its next GOPROXY entry).
 */
async function sumdb(view: GoReader, rest: string, req: Request, ctx: RequestContext): Promise<Response> {
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const proxy = view.sumdb(name);
  if (!proxy || slash < 0) throw new RegistryError('not_found', `not found: checksum database ${name} is not proxied by ${view.name}`, { code: 'NOT_FOUND' });
  const a = await proxy.serve(rest.slice(slash + 1), req.headers.get('via') ?? undefined);
  note(ctx, a.cache);
  return new Response(req.method === 'HEAD' ? null : a.body, { headers: { 'content-type': a.type, 'content-length': String(a.body.byteLength), 'x-cache': a.cache } });
}

function note(ctx: RequestContext, cache: string): void {
  ctx.info.cache = cache;
  ctx.core.metrics.cache.inc({ repo: ctx.info.repo ?? '', result: cache });
}

function text(a: GoAnswer & { kind: 'text' }, type: string, ctx: RequestContext, head: boolean): Response {
  note(ctx, a.cache);
  const bytes = new TextEncoder().encode(a.body);
  return new Response(head ? null : bytes, { headers: { 'content-type': type, 'content-length': String(bytes.byteLength), 'x-cache': a.cache } });
}

async function answer(req: Request, a: GoAnswer, type: string, ctx: RequestContext): Promise<Response> {
  const { core: s, info } = ctx;
  note(ctx, a.cache);
  const deps = serveDeps(s, info);
  if (a.kind === 'text') return text(a, type, ctx, req.method === 'HEAD');
  if (a.kind === 'blob') return serveBlob(req, { kind: 'store', digest: a.digest, size: a.size }, { 'content-type': type, 'x-cache': a.cache, etag: `"${a.digest.hex}"` }, deps);
  return serveBlob(req, { kind: 'stream', size: a.size, open: a.open }, { 'content-type': type, 'x-cache': a.cache }, deps);
}
