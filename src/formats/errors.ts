import { RegistryError, isRegistryError } from '../errors.ts';
import type { ErrorKind } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RequestInfo } from '../http/runtime.ts';
import { AccessRefused } from './basic-access.ts';

/**
 * The kit's one error path (issue 23): the kind → status table every format answers with (Docker
 * maps through its OCI codes instead), the headers every error gets, and the body in the format's
 * own wire shape (OCI JSON, ChartMuseum's {"error"}, plain text for the go command, ...).
 */
export const STATUS: Record<ErrorKind, number> = {
  not_found: 404,
  invalid: 400,
  conflict: 409,
  unauthorized: 401,
  denied: 403,
  too_large: 413,
  unsupported: 405,
  range: 416,
  unavailable: 503,
  upstream: 502,
  rate_limited: 429,
  loop: 508,
  insufficient_storage: 507,
  internal: 500,
};

/**
 * Any thrown value as a RegistryError. Out of file handles (EMFILE, ENFILE) is a passing overload:
 * 503 with Retry-After, never a 500, in every format. Anything else unknown is internal and logged.
 */
export function asRegistryError(e: unknown, log: Logger): RegistryError {
  if (isRegistryError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') return new RegistryError('unavailable', 'server is out of file handles; try again shortly', { retryAfter: 1, cause: e });
  log.error('unhandled error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  return new RegistryError('internal', 'internal error', { cause: e });
}

/** A format's wire shape of an error: its body and content type. */
export type ErrorShape = (err: RegistryError, status: number) => { body: string; type: string };

export interface ErrorAnswerOptions {
  /** More headers (Allow on a 405, ...). */
  extra?: Record<string, string>;
  /** The format's own status for an error (Docker: by OCI code); default the table above. */
  statusOf?: (err: RegistryError) => number;
}

/** An error as a response in a format's shape; noted on the request's log line. */
export function errorAnswer(e: unknown, at: { info: RequestInfo; log: Logger }, head: boolean, shape: ErrorShape, opts: ErrorAnswerOptions = {}): Response {
  const err = asRegistryError(e, at.log);
  at.info.error = err.message;
  if (err.upstreamStatus !== undefined) at.info.upstreamStatus = err.upstreamStatus;
  const status = opts.statusOf?.(err) ?? STATUS[err.kind] ?? 500;
  const { body, type } = shape(err, status);
  const headers: Record<string, string> = { 'content-type': type, ...(e instanceof AccessRefused ? e.headers : {}), ...opts.extra };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  // The rest of an oversized body is never read; the connection cannot carry another request.
  if (status === 413) headers['connection'] = 'close';
  // Clients that print only the status line of a 5xx (podman, skopeo, containerd) show why in its
  // reason phrase, e.g. "503 upstream registry-1.docker.io unreachable" (Node; see adapters/node.ts).
  return new Response(head ? null : body, { status, headers, ...(status >= 500 ? { statusText: reasonPhrase(err.message) } : {}) });
}

/** A message as an HTTP/1.1 reason phrase: visible ASCII and spaces only, one line, bounded. */
export function reasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120) || 'error';
}
