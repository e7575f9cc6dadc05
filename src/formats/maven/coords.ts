import { RegistryError } from '../../errors.ts';
import { isSnapshotVersion } from '../../util/maven-version.ts';
import { parsePath } from '../paths.ts';

export type SumAlg = 'md5' | 'sha1' | 'sha256' | 'sha512';
export const SUM_ALGS: readonly SumAlg[] = ['md5', 'sha1', 'sha256', 'sha512'];
export const METADATA = 'maven-metadata.xml';

/** What a request path names: the prefix file, a metadata document, or a file; either with a checksum suffix. */
export type MavenRoute =
  | { kind: 'prefixes'; sum?: SumAlg | undefined }
  | { kind: 'metadata'; dir: string[]; sum?: SumAlg | undefined }
  | { kind: 'file'; path: string[]; sum?: SumAlg | undefined }
  | { kind: 'folder'; path: string[] };

/** Segments Maven coordinates may use; anything else in a path is refused before it reaches the store. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._~+@-]*$/;

export function parseRoute(sub: string): MavenRoute {
  const path = parsePath(sub);
  for (const s of path) {
    if (!SEGMENT.test(s) && !(s === '.meta' && path[0] === '.meta')) throw new RegistryError('invalid', `path segment ${JSON.stringify(s.slice(0, 80))} is not a Maven coordinate part`, { code: 'PATH_INVALID' });
  }
  if (path.length === 0 || sub.endsWith('/')) return { kind: 'folder', path };
  if (path.length === 2 && path[0] === '.meta' && path[1] === 'prefixes.txt') return { kind: 'prefixes' };
  // Its checksums too: Maven's resolver 2 takes a prefix file only with a checksum it can verify.
  const prefixSum = path.length === 2 && path[0] === '.meta' ? SUM_ALGS.find((a) => path[1] === `prefixes.txt.${a}`) : undefined;
  if (prefixSum) return { kind: 'prefixes', sum: prefixSum };
  if (path[0] === '.meta') throw new RegistryError('not_found', `not found: /${path.join('/')}`, { code: 'NOT_FOUND' });
  const last = path[path.length - 1] ?? '';
  let name = last;
  let sum: SumAlg | undefined;
  for (const a of SUM_ALGS) {
    if (last.endsWith(`.${a}`) && last.length > a.length + 1) {
      sum = a;
      name = last.slice(0, -a.length - 1);
    }
  }
  const dir = path.slice(0, -1);
  if (name === METADATA) return { kind: 'metadata', dir, sum };
  return { kind: 'file', path: [...dir, name], sum };
}

/** A file's Maven coordinates, read from its path (`group/…/artifact/version/artifact-version[-classifier].ext`). */
export interface Coords {
  group: string[];
  artifactId: string;
  /** The folder's version (`1.0`, `1.0-SNAPSHOT`). */
  version: string;
  filename: string;
  classifier?: string | undefined;
  extension: string;
  /** A snapshot build's file: `1.0-20261201.101010-3` as its version, with timestamp and build number. */
  build?: { value: string; timestamp: string; buildNumber: number } | undefined;
}

const TIMESTAMPED = /^(\d{8}\.\d{6})-(\d+)/;

/** The coordinates of a file path, or null when the name does not follow `artifactId-version`. */
export function coordsOf(path: string[]): Coords | null {
  if (path.length < 4) return null;
  const filename = path[path.length - 1] ?? '';
  const version = path[path.length - 2] ?? '';
  const artifactId = path[path.length - 3] ?? '';
  const group = path.slice(0, -3);
  let rest: string;
  let build: Coords['build'];
  if (isSnapshotVersion(version)) {
    const base = `${artifactId}-${version.slice(0, -'SNAPSHOT'.length)}`;
    if (!filename.startsWith(base)) return null;
    const tail = filename.slice(base.length);
    const m = TIMESTAMPED.exec(tail);
    if (m) {
      build = { value: `${version.slice(0, -'SNAPSHOT'.length)}${m[0]}`, timestamp: m[1] ?? '', buildNumber: Number(m[2]) };
      rest = tail.slice(m[0].length);
    } else if (tail.startsWith('SNAPSHOT')) rest = tail.slice('SNAPSHOT'.length);
    else return null;
  } else {
    const base = `${artifactId}-${version}`;
    if (!filename.startsWith(base)) return null;
    rest = filename.slice(base.length);
  }
  let classifier: string | undefined;
  if (rest.startsWith('-')) {
    const dot = rest.indexOf('.');
    if (dot < 2) return null;
    classifier = rest.slice(1, dot);
    rest = rest.slice(dot);
  }
  if (!rest.startsWith('.') || rest.length < 2) return null;
  return { group, artifactId, version, filename, classifier, extension: rest.slice(1), build };
}

/** `group:artifact`, the name filters and the dependency-confusion guard go by. */
export const gaOf = (group: string[], artifactId: string): string => `${group.join('.')}:${artifactId}`;
