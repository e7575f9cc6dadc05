/**
 * Domain errors. No HTTP here: each format's errors.ts renders a RegistryError in its own wire
 * format. `code` is an optional format-level hint (e.g. an OCI code such as MANIFEST_UNKNOWN) so the
 * domain can say *which* thing is missing without knowing about status codes.
 */
export type ErrorKind =
  | 'not_found'
  | 'invalid'
  | 'conflict'
  | 'unauthorized'
  | 'denied'
  | 'too_large'
  | 'unsupported'
  | 'range'
  | 'unavailable'
  | 'upstream'
  | 'rate_limited'
  | 'loop'
  | 'insufficient_storage'
  | 'internal';

export interface RegistryErrorOptions {
  code?: string;
  detail?: unknown;
  cause?: unknown;
  /** Seconds, when the upstream (or we) asked the client to come back later. */
  retryAfter?: number;
  /** HTTP status the upstream answered, for logs and error details. */
  upstreamStatus?: number;
}

export class RegistryError extends Error {
  readonly kind: ErrorKind;
  readonly code: string | undefined;
  readonly detail: unknown;
  readonly retryAfter: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(kind: ErrorKind, message: string, opts: RegistryErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RegistryError';
    this.kind = kind;
    this.code = opts.code;
    this.detail = opts.detail;
    this.retryAfter = opts.retryAfter;
    this.upstreamStatus = opts.upstreamStatus;
  }
}

export function isRegistryError(e: unknown): e is RegistryError {
  return e instanceof RegistryError;
}

/** ENOSPC/EDQUOT from any driver become one domain kind, so every format can report "disk full". */
export function fromStorageError(e: unknown, what: string): RegistryError {
  if (isRegistryError(e)) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new RegistryError('insufficient_storage', `storage full while writing ${what}`, { cause: e });
  }
  return new RegistryError('internal', `storage failure while writing ${what}`, { cause: e });
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
