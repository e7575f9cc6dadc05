import { RegistryError } from '../../errors.ts';
import { multipartBoundary, multipartParts } from '../../http/multipart.ts';
import { collectLimited, idleTimeoutBody, readLimited } from '../../util/streams.ts';
import { serveBlob, serveDeps } from '../../http/serve-blob.ts';
import { actionOf, allowed, basicAccess, memberReadable } from '../basic-access.ts';
import type { RequestContext } from '../format.ts';
import { MAX_PROV } from './local.ts';
import type { HelmLocal } from './local.ts';
import { notFound } from './reader.ts';
import type { HelmFile, HelmReader } from './reader.ts';
import { HelmVirtual } from './virtual.ts';
import { notModified } from '../../http/conditional.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';
import { notifyChange } from '../events.ts';


export interface HelmView {
  name: string;
  reader: HelmReader;
  /** Where uploads go: the local repo itself, or a virtual repo's deployTo. */
  writer: HelmLocal | undefined;
}

/** Errors as ChartMuseum answers them: `{"error": "<message>"}`. */
export const helmShape: ErrorShape = (err) => ({ type: 'application/json', body: JSON.stringify({ error: err.message }) });

function errorResponse(e: unknown, ctx: RequestContext, head: boolean, extra: Record<string, string> = {}): Response {
  return errorAnswer(e, { info: ctx.info, log: ctx.core.log }, head, helmShape, { extra });
}

const json = (body: unknown, status = 200, head = false): Response => new Response(head ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RegistryError('invalid', 'malformed percent-encoding', { code: 'INVALID' });
  }
}

/**
 * `/repo/<name><sub>` of a Helm repo: the classic chart repository (`index.yaml`,
 * `charts/<name>-<version>.tgz[.prov]`, PUT of an archive) and ChartMuseum's API under `/api/`.
 */
export async function handleHelm(view: HelmView, req: Request, sub: string, ctx: RequestContext): Promise<Response> {
  const head = req.method === 'HEAD';
  const m = req.method;
  try {
    const action = actionOf(m, ['PUT', 'POST']);
    if (!action) throw new RegistryError('unsupported', `${m} is not allowed here`);
    const who = await basicAccess(ctx, req, view.name, action);
    const s = ctx.core;
    // Through a virtual repo a caller sees only the members they may read themselves.
    const reader = s.access.enabled && view.reader instanceof HelmVirtual ? view.reader.restrictedTo(memberReadable(ctx, who)) : view.reader;
    const via = req.headers.get('via') ?? undefined;
    const api = /^\/api\/(charts|prov)(?:\/([^/]+))?(?:\/([^/]+))?\/?$/.exec(sub);
    if (action === 'pull') {
      if (sub === '/index.yaml' || sub === '/') return await answer(req, await reader.indexFile(via), reader.indexFormat === 'json' ? 'application/json' : 'application/x-yaml', ctx);
      const file = /^\/charts\/([^/]+)$/.exec(sub);
      if (file) return await answer(req, await reader.file(decode(file[1] ?? ''), via), (file[1] ?? '').endsWith('.prov') ? 'application/pgp-signature' : 'application/gzip', ctx);
      if (api?.[1] === 'charts') {
        const { entries } = await reader.entries(via);
        if (api[2] === undefined) return json(Object.fromEntries(entries), 200, head);
        const versions = entries.get(decode(api[2])) ?? [];
        if (api[3] === undefined) return versions.length > 0 ? json(versions, 200, head) : errorResponse(notFound(`chart ${decode(api[2])}`), ctx, head);
        const one = versions.find((e) => e.version === decode(api[3] ?? ''));
        return one ? json(one, 200, head) : errorResponse(notFound(`chart ${decode(api[2])} ${decode(api[3])}`), ctx, head);
      }
      throw notFound(`${sub} (a chart repository serves /index.yaml, /charts/<file> and /api/charts)`);
    }
    const writer = view.writer;
    if (!writer) throw new RegistryError('unsupported', `repository ${view.name} takes no uploads (remote, or virtual without deployTo)`);
    const idle = s.config.http.bodyIdleSeconds * 1000;
    const body = (): AsyncIterable<Uint8Array> => (req.body ? idleTimeoutBody(req.body, idle, 'request body', 'invalid') : (async function* () {})());
    // ChartMuseum's `?force`: replacing a version is a delete and an upload, so only for users who may delete.
    const force = new URL(req.url).searchParams.has('force') && allowed(ctx, who, view.name, 'delete');
    const published = (e: { name: string; version: string; digest?: string }): void =>
      notifyChange(ctx, req, 'push', 'helm', { repository: e.name, tag: e.version, ...(e.digest ? { digest: e.digest } : {}), mediaType: 'application/gzip', path: `/charts/${e.name}-${e.version}.tgz` });
    if (action === 'delete') {
      if (api?.[1] !== 'charts' || api[2] === undefined || api[3] === undefined) throw notFound('DELETE /api/charts/<name>/<version>');
      await writer.delete(decode(api[2]), decode(api[3]));
      notifyChange(ctx, req, 'delete', 'helm', { repository: decode(api[2]), tag: decode(api[3]) });
      return json({ deleted: true });
    }
    if (m === 'PUT') {
      const file = /^\/charts\/([^/]+)$/.exec(sub);
      if (!file) throw notFound('PUT /charts/<name>-<version>.tgz');
      const name = decode(file[1] ?? '');
      if (name.endsWith('.prov')) return json({ saved: true, file: await writer.uploadProv(await readLimited(req.body, MAX_PROV, idle, 'provenance file', 'invalid'), force) }, 201);
      const entry = await writer.upload(body(), name, force);
      published(entry);
      return json({ saved: true, name: entry.name, version: entry.version }, 201);
    }
    if (api?.[2] !== undefined || !api) throw notFound('POST /api/charts or /api/prov');
    const boundary = multipartBoundary(req.headers.get('content-type'));
    if (!boundary) {
      if (api[1] === 'prov') return json({ saved: true, file: await writer.uploadProv(await readLimited(req.body, MAX_PROV, idle, 'provenance file', 'invalid'), force) }, 201);
      const entry = await writer.upload(body(), undefined, force);
      published(entry);
      return json({ saved: true, name: entry.name, version: entry.version }, 201);
    }
    // ChartMuseum's form: `chart` (the archive) and/or `prov`, the chart first.
    let saved = false;
    // A chart, a provenance file and little else: ChartMuseum's form has two fields.
    for await (const part of multipartParts(body(), boundary, { maxBytes: writer.maxChartBytes + MAX_PROV + (64 << 10), maxParts: 8 })) {
      if (part.name === 'chart' && api[1] === 'charts') {
        published(await writer.upload(part.body, undefined, force));
        saved = true;
      } else if (part.name === 'prov') {
        await writer.uploadProv(await collectLimited(part.body, MAX_PROV, 'provenance file'), force);
        saved = true;
      }
    }
    if (!saved) throw new RegistryError('invalid', `no ${api[1] === 'charts' ? '"chart" or "prov"' : '"prov"'} field in the form`, { code: 'INVALID' });
    return json({ saved: true }, 201);
  } catch (e) {
    return errorResponse(e, ctx, head);
  }
}

async function answer(req: Request, f: HelmFile, type: string, ctx: RequestContext): Promise<Response> {
  const { core: s, info } = ctx;
  info.cache = f.cache;
  s.metrics.cache.inc({ repo: info.repo ?? '', result: f.cache });
  const deps = serveDeps(s, info);
  const headers: Record<string, string> = { 'content-type': type, 'x-cache': f.cache };
  if (f.kind === 'stream') return serveBlob(req, { kind: 'stream', size: f.size, open: f.open }, headers, deps);
  headers['etag'] = `"${f.kind === 'blob' ? f.digest.hex : f.etag}"`;
  if (f.kind === 'blob') return serveBlob(req, { kind: 'store', digest: f.digest, size: f.size }, headers, deps);
  if (notModified(req, { etag: headers['etag'] })) return new Response(null, { status: 304, headers });
  headers['content-length'] = String(f.body.byteLength);
  return new Response(req.method === 'HEAD' ? null : f.body, { headers });
}
