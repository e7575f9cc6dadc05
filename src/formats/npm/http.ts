import { RegistryError } from '../../errors.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import { actionOf, allowed, basicAccess, memberReadable } from '../basic-access.ts';
import { errorAnswer } from '../errors.ts';
import { notifyChange } from '../events.ts';
import type { RequestContext } from '../format.ts';
import { cachedFileAnswer } from '../file-answer.ts';
import { parseRoute, tarballPath } from './names.ts';
import { encodeJson, withBase } from './packument.ts';
import { notFound } from './reader.ts';
import { packumentResponse } from './render.ts';
import { handleSpecial } from './special.ts';
import { NpmVirtual } from './virtual.ts';
import { baseOf, json, npmShape } from './view.ts';
import type { NpmView } from './view.ts';

/**
 * `/repo/<name><sub>` of an npm repo: packuments (`/<name>`, `/@scope%2f<name>`), versions,
 * tarballs (`/<name>/-/<file>.tgz`), publish and document updates (PUT), unpublish (DELETE with
 * `-rev`), and the `/-/` endpoints (special.ts).
 */
export async function handleNpm(view: NpmView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const head = req.method === 'HEAD';
  try {
    return await route(view, req, sub, ctx, head);
  } catch (e) {
    return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, head, npmShape);
  }
}

async function route(view: NpmView, req: Request, sub: string, ctx: RequestContext, head: boolean): Promise<Response> {
  const m = req.method;
  const r = parseRoute(sub);
  if (r.kind === 'special') return handleSpecial(view, req, r.path, ctx);
  const action = actionOf(m);
  if (!action) throw new RegistryError('unsupported', `${m} is not allowed here`);
  const who = await basicAccess(ctx, req, view.name, action);
  const reader = ctx.core.access.enabled && view.reader instanceof NpmVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
  const via = req.headers.get('via') ?? undefined;
  if (action === 'pull') {
    if (r.kind === 'packument') {
      const fresh = new URL(req.url).searchParams.get('write') === 'true';
      return await packumentResponse(req, await reader.packument(r.name, { via, fresh }), baseOf(req, ctx, view.name), ctx);
    }
    if (r.kind === 'version') {
      const doc = await (await reader.packument(r.name, { via })).doc();
      const version = doc['dist-tags'][r.version] ?? r.version;
      const one = doc.versions[version];
      if (!one) throw notFound(`version ${r.version} of ${r.name}`);
      return new Response(head ? null : withBase(encodeJson(one), baseOf(req, ctx, view.name)), { headers: { 'content-type': 'application/json' } });
    }
    if (r.kind === 'tarball' && r.rev === undefined) return await cachedFileAnswer(req, await reader.tarball(r.name, r.file, via), ctx);
    throw notFound(sub);
  }
  const writer = view.writer;
  if (!writer) throw new RegistryError('unsupported', `repository ${view.name} takes no publishes (remote, or virtual without deployTo)`);
  if (action === 'delete') {
    if (r.kind === 'packument') {
      await writer.removePackage(r.name);
      notifyChange(ctx, req, 'delete', 'npm', { repository: r.name });
      return json({ ok: true });
    }
    if (r.kind === 'tarball') {
      await writer.removeTarball(r.name, r.file);
      return json({ ok: true });
    }
    throw notFound(sub);
  }
  if (r.kind !== 'packument') throw notFound(`PUT ${sub} (publish is PUT /<package>)`);
  const idle = ctx.core.config.http.bodyIdleSeconds * 1000;
  const body = req.body ? idleTimeoutBody(req.body, idle, 'request body', 'invalid') : (async function* () {})();
  const done = await writer.put(r.name, body, allowed(ctx, who, view.name, 'delete'));
  if (done.kind === 'published') {
    notifyChange(ctx, req, 'push', 'npm', { repository: r.name, tag: done.version, digest: done.digest, size: done.size, mediaType: 'application/gzip', path: tarballPath(r.name, done.file) });
    return json({ ok: true, id: r.name, success: true }, 201);
  }
  for (const v of done.removed) notifyChange(ctx, req, 'delete', 'npm', { repository: r.name, tag: v });
  return json({ ok: true, id: r.name });
}
