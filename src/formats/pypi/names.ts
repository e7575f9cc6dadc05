import { RegistryError } from '../../errors.ts';
import { globToRegExp } from '../../util/glob.ts';
import { isPep440 } from '../../util/pep440.ts';

/**
 * Project names, file names and the repo's URL grammar. Names are compared normalised (PEP 503:
 * lower-case, runs of `-`, `_`, `.` as one `-`); a name must be a valid distribution name (PEP 508).
 */
export const normalize = (name: string): string => name.toLowerCase().replace(/[-_.]+/g, '-');

const NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function checkProject(name: string): string {
  if (name.length > 200 || !NAME.test(name)) throw new RegistryError('invalid', `${JSON.stringify(name.slice(0, 100))} is not a valid project name`, { code: 'INVALID_NAME' });
  return name;
}

/** A distribution file name: letters, digits and `._+!-` (epochs and local versions), no path. */
const FILE = /^[A-Za-z0-9][A-Za-z0-9._+!-]{0,250}$/;

export interface ParsedFile {
  project: string;
  version: string;
  kind: 'wheel' | 'sdist';
}

const SDIST = ['.tar.gz', '.zip'];

/**
 * What a file name says: a wheel's `{name}-{version}(-{build})?-{py}-{abi}-{platform}.whl`, or an
 * sdist's `{name}-{version}.tar.gz` / `.zip`. An sdist's name may hold `-` (older tools kept it),
 * so the split is the rightmost one whose tail is a version (or the one matching `expected`).
 */
export function parseFilename(file: string, expected?: string): ParsedFile {
  const bad = (why: string): RegistryError => new RegistryError('invalid', `${JSON.stringify(file.slice(0, 120))} is not a valid distribution file name: ${why}`, { code: 'INVALID_FILENAME' });
  if (!FILE.test(file)) throw bad('letters, digits and ._+!- only');
  if (file.endsWith('.whl')) {
    const parts = file.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) throw bad('a wheel is name-version(-build)-python-abi-platform.whl');
    const [name = '', version = ''] = parts;
    if (!NAME.test(name) || !isPep440(version)) throw bad('the name or version is invalid');
    return { project: normalize(name), version, kind: 'wheel' };
  }
  const ext = SDIST.find((e) => file.endsWith(e));
  if (!ext) throw bad('only wheels (.whl) and sdists (.tar.gz, .zip) are accepted');
  const stem = file.slice(0, -ext.length);
  const want = expected === undefined ? undefined : normalize(expected);
  for (let i = stem.lastIndexOf('-'); i > 0; i = stem.lastIndexOf('-', i - 1)) {
    const name = stem.slice(0, i);
    const version = stem.slice(i + 1);
    if (NAME.test(name) && isPep440(version) && (want === undefined || normalize(name) === want)) return { project: normalize(name), version, kind: 'sdist' };
  }
  throw bad(want === undefined ? 'no name-version in it' : `it does not name the project ${expected}`);
}

export function checkFilename(file: string): string {
  if (!FILE.test(file) || file.includes('..')) throw new RegistryError('invalid', 'not a distribution file name', { code: 'INVALID_FILENAME' });
  return file;
}

export type PypiRoute =
  | { kind: 'index' }
  | { kind: 'page'; project: string; canonical: boolean }
  | { kind: 'file'; project: string; file: string; metadata: boolean }
  | { kind: 'json'; project: string; version?: string }
  | { kind: 'upload' };

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new RegistryError('invalid', 'malformed percent-encoding', { code: 'INVALID' });
  }
}

/**
 * The route of `sub` (the path under /repo/<name>): `/simple/`, `/simple/<project>/` (`canonical`
 * false when the client's spelling or slash differs: it is redirected), `/files/<project>/<file>`
 * (and `<file>.metadata`, PEP 658), `/pypi/<project>[/<version>]/json`, and uploads at `/` or `/legacy/`.
 */
export function parseRoute(sub: string): PypiRoute {
  if (sub === '' || sub === '/' || sub === '/legacy' || sub === '/legacy/') return { kind: 'upload' };
  const seg = sub.slice(1).split('/').map(decode);
  if (seg.some((s) => s.includes('/') || s === '..' || s === '.')) throw new RegistryError('invalid', 'path segments must not hold "/" or be "." or ".."', { code: 'INVALID' });
  const [top, a = '', b = ''] = seg;
  if (top === 'simple') {
    if (seg.length === 1 || (seg.length === 2 && a === '')) return { kind: 'index' };
    checkProject(a);
    if (seg.length === 2 || (seg.length === 3 && b === '')) return { kind: 'page', project: normalize(a), canonical: seg.length === 3 && a === normalize(a) };
  }
  if (top === 'files' && seg.length === 3) {
    checkProject(a);
    const metadata = b.endsWith('.metadata');
    return { kind: 'file', project: normalize(a), file: checkFilename(metadata ? b.slice(0, -9) : b), metadata };
  }
  if (top === 'pypi' && (seg.length === 3 || seg.length === 4) && seg[seg.length - 1] === 'json') {
    checkProject(a);
    return seg.length === 4 ? { kind: 'json', project: normalize(a), version: b } : { kind: 'json', project: normalize(a) };
  }
  throw new RegistryError('not_found', `no such index path: ${sub.slice(0, 200)} (pages are under /simple/)`, { code: 'NOT_FOUND' });
}

/** Does a normalised project name match one of the patterns (`corp-*`, `*`)? */
export function matchesAny(project: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globToRegExp(normalize(p)).test(project));
}
