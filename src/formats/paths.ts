import { RegistryError } from '../errors.ts';

/** A raw path longer than this (decoded) is refused: no real artifact path comes close. */
export const MAX_PATH = 512;
const MAX_SEGMENT = 200;

/**
 * A file path inside a path-addressed repo (generic files, Maven), from the raw (percent-encoded) URL path after the repo name.
 * Decoded once; refused: `.` and `..` segments, empty segments, backslashes, NUL and control
 * characters, and anything over the limits. The result is a list of plain segments.
 */
export function parsePath(raw: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw new RegistryError('invalid', 'path is not valid percent-encoding', { code: 'PATH_INVALID' });
  }
  return checkedSegments(decoded);
}

/**
 * The segments of a decoded path, by the rules above: what HTTP routes and bundle imports both
 * accept, so an import can never store a file HTTP cannot reach or delete.
 */
export function checkedSegments(decoded: string): string[] {
  if (decoded.length > MAX_PATH) throw new RegistryError('invalid', `path longer than ${MAX_PATH} characters`, { code: 'PATH_INVALID' });
  if (/[\u0000-\u001f\u007f\\]/.test(decoded)) throw new RegistryError('invalid', 'path contains a control character or a backslash', { code: 'PATH_INVALID' });
  const trimmed = decoded.replace(/^\/+/, '').replace(/\/$/, '');
  if (trimmed === '') return [];
  const segments = trimmed.split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') throw new RegistryError('invalid', 'path contains an empty, "." or ".." segment', { code: 'PATH_INVALID' });
    if (s.length > MAX_SEGMENT) throw new RegistryError('invalid', `path segment longer than ${MAX_SEGMENT} characters`, { code: 'PATH_INVALID' });
  }
  return segments;
}
