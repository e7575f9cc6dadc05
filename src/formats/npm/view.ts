import { repoBase } from '../../http/forwarded.ts';
import { readLimited } from '../../util/streams.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import type { ErrorShape } from '../errors.ts';
import type { RequestContext } from '../format.ts';
import type { NpmLocal } from './local.ts';
import type { NpmReader } from './reader.ts';

export interface NpmView {
  name: string;
  reader: NpmReader;
  /** Where publishes go: the local repo itself, or a virtual repo's deployTo. */
  writer: NpmLocal | undefined;
  /** The upstream `npm audit` and `/-/npm/v1/keys` are forwarded to (the first remote's), if any. */
  upstream: UpstreamClient | undefined;
}

/** Errors as the npm registry answers them: `{"error": "<message>"}`, which npm prints. */
export const npmShape: ErrorShape = (err) => ({ type: 'application/json', body: JSON.stringify({ error: err.message }) });

export const json = (body: unknown, status = 200, head = false): Response => new Response(head ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Where tarball URLs in served documents point (the kit's repoBase: `http.publicUrl`, else as the client reached us). */
export const baseOf = (req: Request, ctx: RequestContext, repo: string): string => repoBase(req, ctx.core.config.http, repo);

/** A small JSON request body (dist-tag versions, login documents, audit queries). */
export async function smallBody(req: Request, ctx: RequestContext, max = 1 << 20): Promise<Uint8Array> {
  return readLimited(req.body, max, ctx.core.config.http.bodyIdleSeconds * 1000, 'request body', 'invalid');
}
