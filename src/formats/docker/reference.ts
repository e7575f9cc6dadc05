import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';

/**
 * Names, tags and digests per the OCI distribution-spec grammar, and the /v2/ path router as a
 * pure function (it is also the fuzz target). Paths are matched percent-encoded: no valid name, tag
 * or digest contains '%', so anything encoded is simply invalid.
 */
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
/** distribution caps a repository name at 255 characters. */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

export type DockerRoute =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; ref: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'upload'; name: string; uuid: string | undefined }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'unknown' };

const ROUTES: Array<[RegExp, (m: RegExpExecArray) => DockerRoute]> = [
  [/^\/(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1] ?? '', ref: m[2] ?? '' })],
  [/^\/(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'upload', name: m[1] ?? '', uuid: undefined })],
  [/^\/(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1] ?? '', uuid: m[2] ?? '' })],
  [/^\/(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1] ?? '', digest: m[2] ?? '' })],
  [/^\/(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] ?? '' })],
  [/^\/(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1] ?? '', digest: m[2] ?? '' })],
];

/** `sub` is the path after `/v2` (e.g. `/library/alpine/manifests/3.20`). */
export function parseDockerPath(sub: string): DockerRoute {
  if (sub === '' || sub === '/') return { kind: 'base' };
  if (sub === '/_catalog') return { kind: 'catalog' };
  // Bound the work regexes do on hostile input; no valid route is anywhere near this long.
  if (sub.length > 1024) return { kind: 'unknown' };
  for (const [re, make] of ROUTES) {
    const m = re.exec(sub);
    if (m) return make(m);
  }
  return { kind: 'unknown' };
}

export type RefParse = { ok: true; ref: Reference } | { ok: false; reason: 'invalid_tag' | 'invalid_digest' | 'unsupported' };

export function parseReference(ref: string): RefParse {
  if (ref.includes(':')) {
    const d = parseDigest(ref);
    if (d.ok) return { ok: true, ref: { kind: 'digest', digest: d.digest } };
    return { ok: false, reason: d.reason === 'unsupported' ? 'unsupported' : 'invalid_digest' };
  }
  return isValidTag(ref) ? { ok: true, ref: { kind: 'tag', tag: ref } } : { ok: false, reason: 'invalid_tag' };
}
