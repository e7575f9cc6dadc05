import { RegistryError } from '../../errors.ts';
import { notModified } from '../../http/conditional.ts';
import { servedCounter } from '../../http/serve-blob.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import { actionOf, basicAccess, memberReadable } from '../basic-access.ts';
import { drain } from '../bundle-util.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';
import { cachedFileAnswer } from '../file-answer.ts';
import type { RequestContext } from '../format.ts';
import { parseRoute } from './coords.ts';
import type { MavenRoute, SumAlg } from './coords.ts';
import type { MavenLocal } from './local.ts';
import type { MavenFile, MavenReader } from './reader.ts';
import { sumsOfBlob, sumsOfBytes, sumsOfDocument } from './sums.ts';
import type { Sums } from './sums.ts';
import { MavenVirtual } from './virtual.ts';

export interface MavenView {
  name: string;
  reader: MavenReader;
  /** Where deploys go: the local repo itself, or a virtual repo's deployTo. */
  writer: MavenLocal | undefined;
}

/** Errors as Maven repositories answer them: the reason as plain text (mvn prints the status and the reason phrase). */
const textShape: ErrorShape = (err) => ({ type: 'text/plain; charset=utf-8', body: `${err.message}\n` });

const TYPES: Record<string, string> = { pom: 'application/xml', xml: 'application/xml', jar: 'application/java-archive', war: 'application/java-archive', module: 'application/json', asc: 'text/plain', txt: 'text/plain' };
const typeOf = (name: string): string => TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
const SUM_HEADERS: Array<[SumAlg, string]> = [['sha1', 'x-checksum-sha1'], ['md5', 'x-checksum-md5'], ['sha256', 'x-checksum-sha256']];

/** X-Checksum-* (as Artifactory and Nexus send them; Maven's resolver then skips the .sha1 request). */
function sumHeaders(h: Record<string, string>, sums: Partial<Sums> | undefined): Record<string, string> {
  for (const [alg, name] of SUM_HEADERS) if (sums?.[alg]) h[name] = sums[alg] ?? '';
  return h;
}

/** `/repo/<name><sub>` of a Maven repo: files, their checksum siblings, metadata at every level, `.meta/prefixes.txt`; PUT deploys, DELETE removes. */
export async function handleMaven(view: MavenView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  try {
    return await route(view, req, parseRoute(sub), ctx);
  } catch (e) {
    return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, req.method === 'HEAD', textShape);
  }
}

async function route(view: MavenView, req: Request, r: MavenRoute, ctx: RequestContext): Promise<Response> {
  const action = actionOf(req.method);
  if (!action) throw new RegistryError('unsupported', `${req.method} is not allowed here`);
  const who = await basicAccess(ctx, req, view.name, action);
  const reader = ctx.core.access.enabled && view.reader instanceof MavenVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
  const via = req.headers.get('via') ?? undefined;
  if (action === 'push') return deploy(view, req, r, ctx);
  if (action === 'delete') {
    if (r.kind === 'prefixes' || r.kind === 'metadata' || (r.kind === 'file' && r.sum)) throw new RegistryError('unsupported', 'DELETE takes a file or a folder (metadata follows what is deleted)');
    if (!view.writer?.deletes) throw new RegistryError('unsupported', `repository ${view.name} takes no deletes`);
    const n = await view.writer.remove(r.path);
    notifyChange(ctx, req, 'delete', 'maven', { repository: view.writer.name, path: `/${r.path.join('/')}` });
    return new Response(`deleted ${n} file(s)\n`, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  }
  if (r.kind === 'folder') throw new RegistryError('not_found', `/${r.path.join('/')}/ is a folder (browse it in the web UI)`, { code: 'NOT_FOUND' });
  if (r.kind === 'prefixes') {
    const p = await reader.prefixes(via);
    if (p === null) throw new RegistryError('not_found', `repository ${view.name} cannot list its prefixes (a member has no prefix file)`, { code: 'NOT_FOUND' });
    const body = new TextEncoder().encode(`## repository-prefixes/2.0\n# ${view.name}\n${outermost(p).join('\n')}\n`);
    const sums = sumsOfBytes(body);
    if (r.sum) return bytesAnswer(req, ctx, new TextEncoder().encode(sums[r.sum]), 'text/plain', 'LOCAL', undefined);
    return bytesAnswer(req, ctx, body, 'text/plain; charset=utf-8', 'LOCAL', undefined, `"${sums.sha256}"`, sums);
  }
  if (r.kind === 'metadata') {
    const m = await reader.metadata(r.dir, via);
    const sums = sumsOfDocument(m.etag, m.bytes);
    if (r.sum) return bytesAnswer(req, ctx, new TextEncoder().encode(sums[r.sum]), 'text/plain', m.cache, undefined);
    return bytesAnswer(req, ctx, m.bytes, 'application/xml', m.cache, m.modified, `"${m.etag}"`, sums);
  }
  const name = r.path[r.path.length - 1] ?? '';
  let f = await reader.file(r.path, via);
  if (r.sum) {
    if (f.kind === 'stream') {
      // A sibling asked while its file is still arriving: the checksum is of the whole, stored file.
      await drain(f.open(0, undefined));
      f = await reader.file(r.path, via);
    }
    const hex = f.sums?.[r.sum] ?? (f.kind === 'blob' ? (await sumsOfBlob(ctx.core.blobs, f.digest))?.[r.sum] : undefined);
    if (!hex) throw new RegistryError('not_found', `no ${r.sum} of ${name}`, { code: 'NOT_FOUND' });
    return bytesAnswer(req, ctx, new TextEncoder().encode(hex), 'text/plain', f.cache, f.modified);
  }
  return fileAnswer(req, f, ctx, typeOf(name));
}

function fileAnswer(req: Request, f: MavenFile, ctx: RequestContext, type: string): Promise<Response> {
  const extra = sumHeaders({}, f.sums);
  if (f.modified) extra['last-modified'] = new Date(f.modified).toUTCString();
  // A non-unique snapshot file changes: it is revalidated like metadata, never cached for good by clients.
  if (/-SNAPSHOT[.-]/.test(req.url)) extra['cache-control'] = 'no-cache';
  return cachedFileAnswer(req, f, ctx, type, extra);
}

/** A small document answer (metadata, a checksum, the prefix file): ETag, conditional, HEAD, counted; metadata with its X-Checksum headers. */
function bytesAnswer(req: Request, ctx: RequestContext, body: Uint8Array, type: string, cache: string, modified: number | undefined, etag?: string, sums?: Sums): Response {
  const { core: s, info } = ctx;
  info.cache = cache as typeof info.cache;
  const headers: Record<string, string> = { 'content-type': type, 'content-length': String(body.byteLength), 'cache-control': 'no-cache', 'x-cache': cache };
  if (etag) headers['etag'] = etag;
  if (modified) headers['last-modified'] = new Date(modified).toUTCString();
  if (sums) sumHeaders(headers, sums);
  if (notModified(req, { etag: headers['etag'], lastModified: headers['last-modified'] })) return new Response(null, { status: 304, headers });
  if (req.method === 'HEAD') return new Response(null, { headers });
  servedCounter(s.metrics, info)(body.byteLength, cache);
  return new Response(body, { headers });
}

async function deploy(view: MavenView, req: Request, r: MavenRoute, ctx: RequestContext): Promise<Response> {
  const writer = view.writer;
  if (!writer) throw new RegistryError('unsupported', `repository ${view.name} takes no deploys (remote, or virtual without deployTo)`);
  if (!req.body) throw new RegistryError('invalid', 'a deploy needs a body', { code: 'INVALID_DEPLOY' });
  const body = idleTimeoutBody(req.body, ctx.core.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid');
  const done = await writer.put(r, body);
  if (done.coords && done.digest) {
    const c = done.coords;
    notifyChange(ctx, req, 'push', 'maven', { repository: `${c.group.join('.')}:${c.artifactId}`, tag: c.version, digest: done.digest, size: done.size ?? 0, mediaType: typeOf(c.filename), path: `/${[...c.group, c.artifactId, c.version, c.filename].join('/')}` });
  }
  return new Response(null, { status: 201 });
}

/**
 * The prefixes with every one under another dropped (`/org/corp/plugins` beside `/org/corp`):
 * Maven's resolver reads the file as a tree whose leaves are the allowed prefixes, so a nested
 * entry turns its parent into an inner node and denies everything else under it (Maven 3.10 then
 * refused every hosted `org.corp` artifact).
 */
export function outermost(prefixes: readonly string[]): string[] {
  const all = new Set(prefixes.map((p) => p.replace(/\/+$/, '')).filter((p) => p !== ''));
  const under = (p: string): boolean => {
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) if (all.has(p.slice(0, i))) return true;
    return false;
  };
  return [...all].filter((p) => !under(p)).sort();
}
