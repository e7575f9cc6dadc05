import type { ErrorKind, RegistryError } from '../../errors.ts';

/**
 * OCI distribution-spec error codes and their statuses, with one serializer. A RegistryError picks
 * its code from its hint when it carries one, else from its kind.
 */
export const OCI_CODES = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  TAG_INVALID: 400,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
  UNAVAILABLE: 503,
  UPSTREAM_ERROR: 502,
  LOOP_DETECTED: 508,
  INSUFFICIENT_STORAGE: 507,
  INTERNAL: 500,
} as const;

export type OciCode = keyof typeof OCI_CODES;

const BY_KIND: Record<ErrorKind, OciCode> = {
  not_found: 'NAME_UNKNOWN',
  invalid: 'MANIFEST_INVALID',
  conflict: 'DENIED',
  unauthorized: 'UNAUTHORIZED',
  denied: 'DENIED',
  too_large: 'SIZE_INVALID',
  unsupported: 'UNSUPPORTED',
  range: 'RANGE_INVALID',
  unavailable: 'UNAVAILABLE',
  upstream: 'UPSTREAM_ERROR',
  rate_limited: 'TOOMANYREQUESTS',
  loop: 'LOOP_DETECTED',
  insufficient_storage: 'INSUFFICIENT_STORAGE',
  internal: 'INTERNAL',
};

/** The core's neutral codes in OCI's words (upload sessions are the core's; the names are Docker's). */
const NEUTRAL: Record<string, OciCode> = { UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN', UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID' };

export function ociCodeOf(e: RegistryError): OciCode {
  if (e.code && e.code in OCI_CODES) return e.code as OciCode;
  const neutral = e.code ? NEUTRAL[e.code] : undefined;
  if (neutral) return neutral;
  return BY_KIND[e.kind];
}

/** The statuses our own extra codes use where the spec has none (they still carry the envelope). */
export function ociStatus(e: RegistryError): number {
  if (e.kind === 'too_large' && e.code === 'MANIFEST_INVALID') return 413;
  if (e.kind === 'too_large' && e.code === 'SIZE_INVALID') return 413;
  // Immutable tags and similar refusals of a well-formed write.
  if (e.kind === 'conflict') return 409;
  // Disk full keeps its status whatever code names the failed operation (BLOB_UPLOAD_INVALID).
  if (e.kind === 'insufficient_storage') return 507;
  return OCI_CODES[ociCodeOf(e)];
}

export function ociErrorBody(code: OciCode, message: string, detail?: unknown): string {
  return JSON.stringify({ errors: [{ code, message, detail: detail ?? null }] });
}
