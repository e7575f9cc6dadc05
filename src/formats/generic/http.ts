import { RegistryError } from '../../errors.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import { serveBlob, serveDeps } from '../../http/serve-blob.ts';
import { actionOf, basicAccess, memberReadable } from '../basic-access.ts';
import type { RequestContext } from '../format.ts';
import { DEFAULT_PAGE, MAX_PAGE } from './files.ts';
import type { FileResult, GenericReader, GenericWriter, ListPage, ListResult } from './files.ts';
import { parsePath } from './paths.ts';
import { GenericVirtual } from './virtual.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';

/** Generic errors: `{"errors":[{status, code, message}]}` (the shape curl users and scripts read). */
export const genericShape: ErrorShape = (err, status) => ({ type: 'application/json', body: JSON.stringify({ errors: [{ status, code: err.code ?? err.kind.toUpperCase(), message: err.message }] }) });

function errorResponse(e: unknown, ctx: RequestContext, head: boolean, extra: Record<string, string> = {}): Response {
  return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, head, genericShape, { extra });
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * A folder listing, one page at a time: `?n=` entries (default 1000, at most 10,000) after `?last=`,
 * with `next` in the JSON and a `Link: <…>; rel="next"` header while more follow (as the Docker tag
 * list pages), so no request walks a 100k-entry folder.
 */
function pageOf(url: URL): ListPage {
  const n = Number(url.searchParams.get('n') ?? DEFAULT_PAGE);
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) throw new RegistryError('invalid', `n must be a whole number from 1 to ${MAX_PAGE}`, { code: 'INVALID' });
  const last = url.searchParams.get('last') ?? undefined;
  return { n, last };
}

function listing(req: Request, repo: string, path: string[], result: ListResult, head: boolean): Response {
  const url = new URL(req.url);
  const where = `/${path.join('/')}${path.length > 0 ? '/' : ''}`;
  const entries = result.entries;
  const lastName = entries[entries.length - 1]?.name;
  const next = result.more && lastName !== undefined ? (() => {
    const u = new URL(url.pathname, url.origin);
    if (url.searchParams.has('list')) u.searchParams.set('list', '');
    u.searchParams.set('n', String(pageOf(url).n));
    u.searchParams.set('last', lastName);
    return `${u.pathname}${u.search}`;
  })() : undefined;
  const link: Record<string, string> = next ? { link: `<${next}>; rel="next"` } : {};
  if (url.searchParams.has('list')) {
    return new Response(head ? null : JSON.stringify({ repo, path: where, children: entries, ...(next ? { next } : {}) }), { headers: { 'content-type': 'application/json', ...link } });
  }
  // A plain index for browsers; every name is escaped (file names are the uploader's choice).
  const rows = entries.map((e) => {
    const href = encodeURIComponent(e.name) + (e.type === 'folder' ? '/' : '');
    return `<li><a href="${escapeHtml(href)}">${escapeHtml(e.name)}${e.type === 'folder' ? '/' : ''}</a>${e.size !== undefined ? ` ${e.size} bytes` : ''}</li>`;
  });
  const more = next ? `<li><a href="${escapeHtml(next)}">next page</a></li>` : '';
  const html = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(`${repo}${where}`)}</title><h1>${escapeHtml(`${repo}${where}`)}</h1><ul>${path.length > 0 ? '<li><a href="../">../</a></li>' : ''}${rows.join('')}${more}</ul>`;
  return new Response(head ? null : html, { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'none'", ...link } });
}

export interface GenericView {
  name: string;
  reader: GenericReader;
  writer: GenericWriter | undefined;
}

/** `/repo/<name><sub>` of a generic repo: GET/HEAD a file or a folder listing, PUT and DELETE files. */
export async function handleGeneric(repo: GenericView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const head = req.method === 'HEAD';
  const s = ctx.core;
  try {
    const action = actionOf(req.method);
    if (!action) return errorResponse(new RegistryError('unsupported', `${req.method} is not allowed here`), ctx, head, { allow: 'GET, HEAD, PUT, DELETE' });
    const who = await basicAccess(ctx, req, repo.name, action);
    const path = parsePath(sub);
    const folder = sub === '' || sub.endsWith('/') || new URL(req.url).searchParams.has('list');
    if (action === 'pull') {
      // Through a virtual repo a caller sees only the members they may read themselves.
      const reader = s.access.enabled && repo.reader instanceof GenericVirtual ? repo.reader.restrictedTo(memberReadable(ctx, who)) : repo.reader;
      if (folder) return listing(req, repo.name, path, await reader.list(path, pageOf(new URL(req.url))), head);
      const r = await reader.get(path, head, req.headers.get('via') ?? undefined);
      return await answer(req, r, ctx);
    }
    if (!repo.writer) return errorResponse(new RegistryError('unsupported', `repository ${repo.name} takes no uploads (remote, or virtual without deployTo)`), ctx, head, { allow: 'GET, HEAD' });
    if (action === 'delete') {
      await repo.writer.delete(path);
      notifyChange(ctx, req, 'delete', 'generic', { repository: path.join('/'), path: `/${path.map(encodeURIComponent).join('/')}` });
      return new Response(null, { status: 204 });
    }
    const sha256 = req.headers.get('x-checksum-sha256') ?? undefined;
    const body = req.body ? idleTimeoutBody(req.body, s.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid') : (async function* () {})();
    const { doc, replaced } = await repo.writer.put(path, body, { ...(sha256 !== undefined ? { sha256 } : {}), contentType: req.headers.get('content-type') ?? 'application/octet-stream' });
    const hex = doc.digest.replace(/^sha256:/, '');
    const location = `/repo/${repo.name}/${path.map(encodeURIComponent).join('/')}`;
    notifyChange(ctx, req, 'push', 'generic', { repository: path.join('/'), digest: doc.digest, size: doc.size, mediaType: doc.contentType, path: `/${path.map(encodeURIComponent).join('/')}` });
    return new Response(JSON.stringify({ repo: repo.writer.name, path: `/${path.join('/')}`, size: doc.size, checksums: { sha256: hex } }), {
      status: replaced ? 200 : 201,
      headers: { 'content-type': 'application/json', location, 'x-checksum-sha256': hex },
    });
  } catch (e) {
    return errorResponse(e, ctx, head);
  }
}

/** A file as an answer: validators from its content, Range, conditional GET, X-Cache. */
async function answer(req: Request, r: FileResult, ctx: RequestContext): Promise<Response> {
  const { core: s, info } = ctx;
  info.cache = r.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: r.cache });
  const deps = serveDeps(s, info);
  if (r.source === 'store') {
    const hex = r.digest.hex;
    const etag = `"${hex}"`;
    const headers = {
      'content-type': r.doc.contentType,
      etag,
      'x-checksum-sha256': hex,
      // The upstream's own date for a cached file (apt revalidates InRelease with If-Modified-Since).
      'last-modified': r.doc.upstreamLastModified ?? new Date(r.doc.storedAt).toUTCString(),
      'x-cache': r.cache,
    };
    return serveBlob(req, { kind: 'store', digest: r.digest, size: r.doc.size }, headers, deps);
  }
  const headers: Record<string, string> = { 'content-type': r.contentType, 'x-cache': r.cache };
  if (r.source === 'upstream-head') {
    if (r.size !== undefined) headers['content-length'] = String(r.size);
    return new Response(null, { headers });
  }
  if (r.lastModified) headers['last-modified'] = r.lastModified;
  return serveBlob(req, { kind: 'stream', size: r.size, open: r.open }, headers, deps);
}
