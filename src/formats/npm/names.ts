import { RegistryError } from '../../errors.ts';

/**
 * npm package names and the registry's URL grammar. Names follow validate-npm-package-name: at most
 * 214 characters, URL-safe, not starting with `.` or `_`, scoped as `@scope/name`. Names from an
 * upstream may be upper-case (old packages); published names must be lower-case.
 */
const SCOPE = /^@[a-z0-9~][a-z0-9._~-]*$/i;
const BARE = /^[a-z0-9~-][a-z0-9._~-]*$/i;

export function nameProblem(name: string, publishing: boolean): string | null {
  if (name.length === 0 || name.length > 214) return 'a package name has 1 to 214 characters';
  if (publishing && name !== name.toLowerCase()) return 'a new package name must be lower-case';
  const parts = name.split('/');
  if (parts.length > 2 || (parts.length === 2 && !SCOPE.test(parts[0] ?? ''))) return 'a scoped name is @scope/name';
  const bare = parts[parts.length - 1] ?? '';
  if (!BARE.test(bare) || bare === 'node_modules' || bare === 'favicon.ico') return `${JSON.stringify(name)} is not a valid npm package name`;
  return null;
}

export function checkName(name: string, publishing = false): string {
  const p = nameProblem(name, publishing);
  if (p) throw new RegistryError('invalid', p, { code: 'INVALID_NAME' });
  return name;
}

/** The tarball's file name without the scope: `@corp/x` 1.0.0 → `x-1.0.0.tgz`. */
export function tarballFile(name: string, version: string): string {
  return `${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
}

/** Where a tarball is served under a repo: the registry's own layout, the scope kept. */
export function tarballPath(name: string, file: string): string {
  return `/${name}/-/${file}`;
}

export type NpmRoute =
  | { kind: 'special'; path: string }
  | { kind: 'packument'; name: string; rev?: string }
  | { kind: 'version'; name: string; version: string }
  | { kind: 'tarball'; name: string; file: string; rev?: string };

function decodeAll(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RegistryError('invalid', 'malformed percent-encoding', { code: 'INVALID' });
  }
}

/**
 * The route of `sub` (the path under /repo/<name>): `/-/...` endpoints, then a package name
 * (`@scope%2fname` as npm sends it, or `@scope/name`) with `/-/<file>.tgz`, `/-rev/<rev>` or
 * `/<version>` after it. Segments are decoded one by one, so an encoded `/` inside a name is the
 * scope's separator and never a traversal.
 */
export function parseRoute(sub: string): NpmRoute {
  if (sub === '/' || sub === '') throw new RegistryError('not_found', 'an npm registry serves /<package>', { code: 'NOT_FOUND' });
  if (sub.startsWith('/-/')) return { kind: 'special', path: sub.slice(2) };
  const raw = sub.slice(1).split('/');
  const first = decodeAll(raw[0] ?? '');
  let name: string;
  let rest: string[];
  if (first.startsWith('@')) {
    if (first.includes('/')) [name, rest] = [first, raw.slice(1)];
    else [name, rest] = [`${first}/${decodeAll(raw[1] ?? '')}`, raw.slice(2)];
  } else [name, rest] = [first, raw.slice(1)];
  checkName(name);
  const seg = rest.map(decodeAll);
  if (seg.some((s) => s.includes('/') || s === '..' || s === '.')) throw new RegistryError('invalid', 'path segments must not hold "/" or be "." or ".."', { code: 'INVALID' });
  if (seg.length === 0 || (seg.length === 1 && seg[0] === '')) return { kind: 'packument', name };
  if (seg[0] === '-rev' && seg.length === 2) return { kind: 'packument', name, rev: seg[1] ?? '' };
  if (seg[0] === '-' && seg.length >= 2) {
    const file = seg[1] ?? '';
    if (!/^[A-Za-z0-9~][A-Za-z0-9._~+-]*\.tgz$/.test(file)) throw new RegistryError('invalid', `${JSON.stringify(file)} is not a tarball file name`, { code: 'INVALID' });
    if (seg.length === 2) return { kind: 'tarball', name, file };
    if (seg.length === 4 && seg[2] === '-rev') return { kind: 'tarball', name, file, rev: seg[3] ?? '' };
  }
  if (seg.length === 1) return { kind: 'version', name, version: seg[0] ?? '' };
  throw new RegistryError('not_found', `no such registry path: ${sub}`, { code: 'NOT_FOUND' });
}

/** Does `name` match one of the patterns (`*` within a name; `@scope/*` a whole scope)? */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`, 'i').test(name));
}
