import { RegistryError } from '../../errors.ts';
import { notModified } from '../../http/conditional.ts';
import { servedCounter } from '../../http/serve-blob.ts';
import { drainRequest, idleTimeoutBody } from '../../util/streams.ts';
import type { Principal } from '../../auth/access.ts';
import { actionOf, basicAccess, memberReadable } from '../basic-access.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';
import { cachedFileAnswer } from '../file-answer.ts';
import type { RequestContext } from '../format.ts';
import { SEGMENT } from './control.ts';
import type { DebLocal } from './local.ts';
import type { DebReader, SuiteFile } from './reader.ts';
import type { RepoKey } from './repo-key.ts';
import { DebVirtual } from './virtual.ts';

export interface DebianView {
  name: string;
  reader: DebReader;
  /** Where uploads and removals go: the local repo itself, or a virtual repo's deployTo. */
  writer: DebLocal | undefined;
  /** The key this repo signs its suites with (local and virtual). */
  key: RepoKey | undefined;
}

/** apt prints the status line; the body says why for people and scripts. */
const textShape: ErrorShape = (err) => ({ type: 'text/plain; charset=utf-8', body: `${err.message}\n` });

/** A path under dists/ or pool/: plain segments only (apt never sends anything else). */
const SAFE_PATH = /^[A-Za-z0-9][A-Za-z0-9._+~-]*(?:\/[A-Za-z0-9][A-Za-z0-9._+~-]*)*$/;

function safePath(p: string): string {
  let s: string;
  try {
    s = decodeURIComponent(p);
  } catch {
    throw new RegistryError('invalid', 'a path segment is not valid percent-encoding');
  }
  if (!SAFE_PATH.test(s) || s.split('/').some((x) => x === '..' || x === '.')) throw new RegistryError('not_found', `not an archive path: ${s.slice(0, 200)}`, { code: 'NOT_FOUND' });
  return s;
}

/** `/repo/<name><sub>` of a Debian repo: `dists/` and `pool/` as apt reads them, `key.asc`, and uploads and removals. */
export async function handleDebian(view: DebianView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  try {
    return await route(view, req, sub, ctx);
  } catch (e) {
    return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, req.method === 'HEAD', textShape);
  }
}

function typeOf(path: string): string {
  if (path.endsWith('.gz')) return 'application/gzip';
  if (path.endsWith('.xz')) return 'application/x-xz';
  if (path.endsWith('.deb') || path.endsWith('.udeb')) return 'application/vnd.debian.binary-package';
  if (path.endsWith('.gpg')) return 'application/pgp-signature';
  return 'text/plain; charset=utf-8';
}

async function route(view: DebianView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const m = req.method;
  const read = m === 'GET' || m === 'HEAD';
  const action = actionOf(m);
  if (!action) throw new RegistryError('unsupported', `${m} is not supported here`);
  const who = await basicAccess(ctx, req, view.name, action);
  const via = req.headers.get('via') ?? undefined;
  const reader = ctx.core.access.enabled && view.reader instanceof DebVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
  if (read && sub.startsWith('/dists/')) {
    const rest = safePath(sub.slice(7));
    const slash = rest.indexOf('/');
    if (slash < 0) throw new RegistryError('not_found', `no such file: dists/${rest}`, { code: 'NOT_FOUND' });
    const suite = rest.slice(0, slash);
    const path = rest.slice(slash + 1);
    return suiteAnswer(req, ctx, await reader.suiteFile(suite, path, ctx.info.client, via), path);
  }
  if (read && sub.startsWith('/pool/')) {
    const path = `pool/${safePath(sub.slice(6))}`;
    const f = await reader.pool(path, via, ctx.info.client);
    return cachedFileAnswer(req, f, ctx, typeOf(path));
  }
  if (read && (sub === '/key.asc' || sub === '/key.gpg')) {
    if (!view.key) throw new RegistryError('not_found', `repository ${view.name} signs nothing (a remote passes its archive's signatures through)`, { code: 'NOT_FOUND' });
    const body = sub === '/key.asc' ? await view.key.publicArmored() : await view.key.publicBinary();
    return new Response(m === 'HEAD' ? null : body, { headers: { 'content-type': sub === '/key.asc' ? 'application/pgp-keys' : 'application/octet-stream', 'cache-control': 'no-cache' } });
  }
  const parts = sub.split('/').slice(1).map((p) => safePath(p));
  if (m === 'PUT' && parts[0] === 'upload' && (parts.length === 3 || parts.length === 4)) return upload(view, req, ctx, who, parts[1] ?? '', parts[2] ?? '');
  if (m === 'DELETE' && parts[0] === 'packages' && (parts.length === 4 || parts.length === 5)) {
    const local = writer(view);
    const [, suite = '', name = '', version = '', arch] = parts;
    const n = await local.remove(suite, name, version, arch);
    notifyChange(ctx, req, 'delete', 'debian', { repository: name, tag: version, path: sub });
    return new Response(`removed ${n} package file(s) from suite ${suite}\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  throw new RegistryError('not_found', `no such path in an apt repository: ${m} ${sub.slice(0, 200)} (indexes under /repo/${view.name}/dists/, uploads to PUT /repo/${view.name}/upload/<suite>/<component>)`, { code: 'NOT_FOUND' });
}

function writer(view: DebianView): DebLocal {
  if (!view.writer) throw new RegistryError('unsupported', `repository ${view.name} takes no uploads (remote, or virtual without deployTo)`);
  return view.writer;
}

async function upload(view: DebianView, req: Request, ctx: RequestContext, who: Principal, suite: string, component: string): Promise<Response> {
  const local = writer(view);
  if (!SEGMENT.test(suite) || !SEGMENT.test(component)) throw new RegistryError('invalid', 'upload to /upload/<suite>/<component>');
  if (!req.body) throw new RegistryError('invalid', 'an upload needs the .deb as its body', { code: 'INVALID_PACKAGE' });
  const len = req.headers.get('content-length');
  // The rest of a refused upload is read (bounded) so the client gets the reason, not a reset.
  const body = idleTimeoutBody(req.body, ctx.core.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid', false);
  const { entry, replaced } = await local.upload(suite, component, body, len !== null && /^\d+$/.test(len) ? Number(len) : undefined, who.user).catch(async (e: unknown) => {
    await drainRequest(req);
    throw e;
  });
  notifyChange(ctx, req, 'push', 'debian', { repository: entry.name, tag: entry.version, digest: entry.deb.digest, size: entry.deb.size, mediaType: 'application/vnd.debian.binary-package', path: `/${entry.filename}` });
  const text = `${entry.name} ${entry.version} (${entry.arch}) in ${suite}/${component}${replaced ? ' (moved from another component)' : ''}: ${entry.filename}\n`;
  return new Response(text, { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8', location: `${new URL(req.url).pathname.replace(/\/upload\/.*$/, '')}/${entry.filename}` } });
}

/** A suite file: generated or cached bytes with validators (apt revalidates with If-Modified-Since), or a cached index file. */
function suiteAnswer(req: Request, ctx: RequestContext, f: SuiteFile, path: string): Promise<Response> | Response {
  const type = typeOf(path);
  const byHash = path.includes('/by-hash/');
  // Files named by hash never change; the others change with every generation.
  const cacheControl = byHash ? 'public, max-age=31536000, immutable' : 'no-cache';
  if (f.kind === 'file') return cachedFileAnswer(req, f.file, ctx, type, { 'cache-control': cacheControl });
  const { core: s, info } = ctx;
  info.cache = f.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: f.cache });
  const headers: Record<string, string> = { 'content-type': type, etag: `"${f.etag}"`, 'cache-control': cacheControl, 'x-cache': f.cache };
  if (f.modified !== undefined) headers['last-modified'] = new Date(f.modified).toUTCString();
  if (notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  headers['content-length'] = String(f.bytes.byteLength);
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(f.bytes.byteLength, f.cache);
  return new Response(f.bytes, { headers });
}
