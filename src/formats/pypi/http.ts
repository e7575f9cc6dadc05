import { RegistryError } from '../../errors.ts';
import { notModified } from '../../http/conditional.ts';
import { multipartBoundary } from '../../http/multipart.ts';
import { RenderedCache, acceptsGzip, renderedBody } from '../../http/rendered.ts';
import { servedCounter } from '../../http/serve-blob.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import { actionOf, basicAccess, memberReadable } from '../basic-access.ts';
import { errorAnswer } from '../errors.ts';
import { notifyChange } from '../events.ts';
import { cachedFileAnswer } from '../file-answer.ts';
import type { RequestContext } from '../format.ts';
import { jsonApi } from './json-api.ts';
import { parseRoute } from './names.ts';
import type { PypiRoute } from './names.ts';
import { negotiate, renderIndex, renderPage } from './page.ts';
import type { PageAnswer, PypiReader } from './reader.ts';
import { PypiVirtual } from './virtual.ts';
import { baseOf, jsonShape, textShape } from './view.ts';
import type { PypiView } from './view.ts';

/** Project pages as sent, by (content, form): a 2,000-version page is rendered and compressed once per change. */
const rendered = new RenderedCache(4000, 256 << 20);

/** The `/simple/` index lists at most this many projects (hosted, or cached by a remote). */
const MAX_INDEX = 100_000;

/**
 * `/repo/<name><sub>` of a PyPI repo: the simple API (`/simple/`, `/simple/<project>/`, HTML or
 * JSON by Accept), files and their `.metadata` under `/files/`, the JSON API under `/pypi/`, and
 * uploads (`POST /` or `/legacy/`, as twine sends them).
 */
export async function handlePypi(view: PypiView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const head = req.method === 'HEAD';
  let r: PypiRoute | undefined;
  try {
    r = parseRoute(sub);
    return await route(view, req, r, ctx, head);
  } catch (e) {
    return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, head, r?.kind === 'json' ? jsonShape : textShape);
  }
}

const redirect = (to: string): Response => new Response(null, { status: 301, headers: { location: to } });

async function route(view: PypiView, req: Request, r: PypiRoute, ctx: RequestContext, head: boolean): Promise<Response> {
  const m = req.method;
  const action = actionOf(m, ['POST']);
  if (!action || (action === 'push' && r.kind !== 'upload') || (action === 'pull' && r.kind === 'upload')) throw new RegistryError('unsupported', `${m} is not allowed here`);
  const who = await basicAccess(ctx, req, view.name, action);
  const reader: PypiReader = ctx.core.access.enabled && view.reader instanceof PypiVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
  const via = req.headers.get('via') ?? undefined;
  const path = new URL(req.url).pathname;
  if (r.kind === 'upload') return upload(view, req, ctx);
  if (action === 'delete') {
    if (r.kind !== 'file' || r.metadata) throw new RegistryError('unsupported', 'DELETE takes a file: /files/<project>/<file>');
    if (!view.writer) throw new RegistryError('unsupported', `repository ${view.name} takes no deletes (remote, or virtual without deployTo)`);
    await view.writer.remove(r.project, { filename: r.file });
    notifyChange(ctx, req, 'delete', 'pypi', { repository: r.project, path: r.file });
    return new Response(null, { status: 204 });
  }
  if (r.kind === 'index') {
    if (!path.endsWith('/')) return redirect(`${path}/`);
    const { kind, type } = negotiate(req.headers.get('accept'));
    const body = renderIndex(await reader.projects(MAX_INDEX), kind);
    return new Response(head ? null : body, { headers: { 'content-type': type, vary: 'Accept', 'content-length': String(body.byteLength), 'cache-control': 'no-cache' } });
  }
  if (r.kind === 'page') {
    // PEP 503: other spellings (and no slash) are sent to the normalised URL.
    if (!r.canonical) return redirect(`${path.slice(0, path.lastIndexOf('/simple/') + 8)}${r.project}/`);
    return pageResponse(req, await reader.page(r.project, { via }), ctx);
  }
  if (r.kind === 'file') return cachedFileAnswer(req, await (r.metadata ? reader.metadata(r.project, r.file, via) : reader.file(r.project, r.file, via)), ctx, r.metadata ? 'text/plain; charset=utf-8' : 'application/octet-stream');
  const a = await reader.page(r.project, { via });
  const body = new TextEncoder().encode(JSON.stringify(await jsonApi(reader, await a.page(), baseOf(req, ctx, view.name), r.version)));
  return new Response(head ? null : body, { headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength), 'x-cache': a.cache, 'cache-control': 'no-cache' } });
}

/** A project page: the negotiated form, an ETag per form, Vary, gzip where accepted. */
async function pageResponse(req: Request, a: PageAnswer, ctx: RequestContext): Promise<Response> {
  const { kind, type } = negotiate(req.headers.get('accept'));
  const { core: s, info } = ctx;
  info.cache = a.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: a.cache });
  const headers: Record<string, string> = { 'content-type': type, etag: `"${a.etag}-${kind}"`, vary: 'Accept, Accept-Encoding', 'cache-control': 'no-cache', 'x-cache': a.cache };
  if (a.modified && !Number.isNaN(Date.parse(a.modified))) headers['last-modified'] = new Date(a.modified).toUTCString();
  if (notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  const gz = acceptsGzip(req.headers.get('accept-encoding'));
  const r = await rendered.get(`${a.etag}|${kind}`, gz, async () => renderPage(await a.page(), kind));
  const body = renderedBody(r, gz, headers);
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(body.byteLength, a.cache);
  return new Response(body, { headers });
}

async function upload(view: PypiView, req: Request, ctx: RequestContext): Promise<Response> {
  const writer = view.writer;
  if (!writer) throw new RegistryError('unsupported', `repository ${view.name} takes no uploads (remote, or virtual without deployTo)`);
  const boundary = multipartBoundary(req.headers.get('content-type'));
  if (!boundary || !req.body) throw new RegistryError('invalid', 'an upload is a multipart/form-data POST (twine upload)', { code: 'INVALID_UPLOAD' });
  const body = idleTimeoutBody(req.body, ctx.core.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid');
  const done = await writer.upload(body, boundary);
  notifyChange(ctx, req, 'push', 'pypi', { repository: done.project, tag: done.version, digest: done.digest, size: done.size, mediaType: 'application/octet-stream', path: `/files/${done.project}/${done.filename}` });
  return new Response(`OK: ${done.filename}\n`, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}
