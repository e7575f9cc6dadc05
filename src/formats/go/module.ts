import { RegistryError } from '../../errors.ts';

/**
 * Module paths, versions and the GOPROXY URL grammar, written from the Go reference ("Module proxy
 * protocol", golang.org/x/mod/module CheckPath and EscapePath). Everything here is pure.
 */

const invalid = (message: string): RegistryError => new RegistryError('invalid', message, { code: 'INVALID' });

/** Windows reserved names may not be path elements (the module zip must unpack everywhere). */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/** CheckPath: a module path the go command would accept. Throws with the reason. */
export function checkModulePath(path: string): void {
  if (path === '' || path.length > 1024) throw invalid('malformed module path: empty or too long');
  if (path.startsWith('/') || path.endsWith('/') || path.includes('//')) throw invalid(`malformed module path "${path}": empty path element`);
  const elems = path.split('/');
  const first = elems[0] ?? '';
  if (!first.includes('.')) throw invalid(`malformed module path "${path}": missing dot in first path element`);
  if (first.startsWith('-')) throw invalid(`malformed module path "${path}": leading dash in first path element`);
  if (!/^[a-z0-9.-]+$/.test(first)) throw invalid(`malformed module path "${path}": invalid char in first path element`);
  for (const e of elems) {
    if (e === '.' || e === '..') throw invalid(`malformed module path "${path}": "${e}" path element`);
    if (!/^[A-Za-z0-9._~-]+$/.test(e)) throw invalid(`malformed module path "${path}": invalid char in "${e}"`);
    if (e.startsWith('.') || e.endsWith('.')) throw invalid(`malformed module path "${path}": leading or trailing dot in "${e}"`);
    if (RESERVED.test(e)) throw invalid(`malformed module path "${path}": "${e}" is a reserved file name`);
    if (/~[0-9]+$/.test(e.split('.')[0] ?? '')) throw invalid(`malformed module path "${path}": "${e}" looks like a Windows short name`);
  }
  if (splitPathVersion(path) === null) {
    throw invalid(path.startsWith('gopkg.in/')
      ? `malformed module path "${path}": a gopkg.in path must end in .vN (N without a leading zero) or .vN-unstable`
      : `malformed module path "${path}": invalid version suffix (a final /vN must have N >= 2, no leading zero, no dots)`);
  }
}

/**
 * SplitPathVersion (x/mod/module): the path's major-version suffix, `/vN` (N ≥ 2) or, for gopkg.in,
 * `.vN` / `.vN-unstable` (every gopkg.in path has one; `.v0` is allowed there). '' when a non-gopkg.in
 * path has none; null when the suffix is malformed (`/v1`, `/v02`, `/v2.1`, a gopkg.in path without `.vN`).
 */
export function splitPathVersion(path: string): { prefix: string; pathMajor: string } | null {
  if (path.startsWith('gopkg.in/')) {
    const m = /^(.*)(\.v([0-9]+)(?:-unstable)?)$/.exec(path);
    if (!m || (m[1] ?? '').length < 1) return null;
    const digits = m[3] ?? '';
    if (digits.startsWith('0') && digits !== '0') return null;
    return { prefix: m[1] ?? '', pathMajor: m[2] ?? '' };
  }
  const m = /^(.*)\/v([0-9.]+)$/.exec(path);
  if (!m || (m[1] ?? '') === '') return { prefix: path, pathMajor: '' };
  const n = m[2] ?? '';
  if (n.includes('.') || n.startsWith('0') || n === '1') return null;
  return { prefix: m[1] ?? '', pathMajor: `/v${n}` };
}

/**
 * CheckPathMajor (x/mod/module): whether a version fits the path's major suffix. No suffix: v0, v1 or
 * +incompatible; `/vN` and `.vN`: major N. The go command also accepts v0.0.0- pseudo-versions on
 * gopkg.in `.v1` paths (an old pseudo-version bug that real go.mod files still carry). Null when it fits.
 */
export function pathMajorMismatch(version: string, pathMajor: string): string | null {
  const pm = pathMajor.startsWith('.v') ? pathMajor.replace(/-unstable$/, '') : pathMajor;
  if (pm === '.v1' && version.startsWith('v0.0.0-')) return null;
  const major = /^v([0-9]+)/.exec(version)?.[1] ?? '';
  if (pm === '') return major === '0' || major === '1' || version.endsWith('+incompatible') ? null : 'should be v0 or v1';
  return major === pm.slice(2) ? null : `should be v${pm.slice(2)}`;
}

/** EscapePath: every upper-case letter becomes `!` + its lower case (case-insensitive file systems). */
export function escapeCase(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** UnescapePath: `!x` → `X`; an upper-case letter or a `!` not before a lower-case letter is invalid. */
export function unescapeCase(s: string): string {
  if (/[A-Z]/.test(s)) throw invalid(`invalid escaped path "${s}": upper-case letters must be escaped with !`);
  if (/![^a-z]|!$/.test(s)) throw invalid(`invalid escaped path "${s}": ! must be followed by a lower-case letter`);
  return s.replace(/!([a-z])/g, (_, c: string) => c.toUpperCase());
}

const IDENT = '(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(`^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-${IDENT}(\\.${IDENT})*)?(\\+incompatible)?$`);

/** A canonical semantic version as the go command writes it (pseudo-versions and +incompatible included). */
export function checkVersion(v: string): void {
  if (v.length > 128 || !SEMVER.test(v)) throw invalid(`invalid version "${v}": not a canonical semantic version`);
}

/**
 * module.Check's version half: the version fits the path's major suffix (CheckPathMajor), and
 * +incompatible only on major versions 2 and up of a path without a suffix (the go command refuses
 * `v1.0.0+incompatible` and `/v2` paths at `v2.0.0+incompatible`). The path is already checked.
 */
export function checkVersionForPath(path: string, v: string): void {
  checkVersion(v);
  const split = splitPathVersion(path);
  if (split === null) throw invalid(`malformed module path "${path}": invalid version suffix`);
  const mismatch = pathMajorMismatch(v, split.pathMajor);
  if (mismatch !== null) throw invalid(`invalid version "${v}" for ${path}: ${mismatch}, not ${/^v[0-9]+/.exec(v)?.[0] ?? v}`);
  if (v.endsWith('+incompatible')) {
    const major = Number(/^v([0-9]+)/.exec(v)?.[1] ?? '0');
    if (major < 2 || split.pathMajor !== '') throw invalid(`invalid version "${v}" for ${path}: +incompatible needs a major version >= 2 and no major suffix in the path`);
  }
}

export type GoRoute =
  | { kind: 'list'; module: string }
  | { kind: 'latest'; module: string }
  | { kind: 'file'; module: string; version: string; ext: 'info' | 'mod' | 'zip' }
  | { kind: 'sumdb'; rest: string };

/**
 * A GOPROXY request path (after the repo): `/<escaped module>/@v/list`, `/@v/<escaped version>.info`,
 * `.mod`, `.zip`, `/<escaped module>/@latest`, or `/sumdb/<db host>/...`. Module and version are
 * returned unescaped and checked; null for a path that is none of these.
 */
export function parseGoPath(sub: string): GoRoute | null {
  if (sub.startsWith('/sumdb/')) return { kind: 'sumdb', rest: sub.slice('/sumdb/'.length) };
  const latest = /^\/(.+)\/@latest$/.exec(sub);
  if (latest) return { kind: 'latest', module: modulePath(latest[1] ?? '') };
  const m = /^\/(.+)\/@v\/([^/]+)$/.exec(sub);
  if (!m) return null;
  const module = modulePath(m[1] ?? '');
  const file = m[2] ?? '';
  if (file === 'list') return { kind: 'list', module };
  const f = /^(.+)\.(info|mod|zip)$/.exec(file);
  if (!f) return null;
  const version = unescapeCase(decode(f[1] ?? ''));
  checkVersionForPath(module, version);
  return { kind: 'file', module, version, ext: f[2] as 'info' | 'mod' | 'zip' };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid('malformed percent-encoding');
  }
}

function modulePath(escaped: string): string {
  const path = unescapeCase(decode(escaped));
  checkModulePath(path);
  return path;
}

/** Path patterns as GOPRIVATE / GONOSUMDB: comma-separated globs matching a module path or any prefix of it. */
export function matchesPrivate(patterns: string[], module: string): boolean {
  const elems = module.split('/');
  return patterns.some((p) => {
    const parts = p.split('/');
    if (parts.length > elems.length) return false;
    return parts.every((part, i) => new RegExp(`^${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(elems[i] ?? ''));
  });
}

/** Semantic-version precedence (build metadata such as +incompatible ignored); both already checked. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): { nums: number[]; pre: string[] } => {
    const core = v.slice(1).replace(/\+.*$/, '');
    const dash = core.indexOf('-');
    const main = dash < 0 ? core : core.slice(0, dash);
    return { nums: main.split('.').map(Number), pre: dash < 0 ? [] : core.slice(dash + 1).split('.') };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length; // a release outranks its prereleases
  for (let i = 0; i < Math.min(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i] ?? '';
    const q = y.pre[i] ?? '';
    if (p === q) continue;
    const pn = /^[0-9]+$/.test(p);
    const qn = /^[0-9]+$/.test(q);
    if (pn && qn) return Number(p) - Number(q);
    if (pn !== qn) return pn ? -1 : 1;
    return p < q ? -1 : 1;
  }
  return x.pre.length - y.pre.length;
}

/** The module path a go.mod declares (its `module` directive), or null. */
export function declaredModule(goMod: string): string | null {
  const m = /^\s*module\s+(?:"([^"]+)"|(\S+))/m.exec(goMod);
  return m ? (m[1] ?? m[2] ?? null) : null;
}
