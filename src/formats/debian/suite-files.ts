import type { CacheStatus } from '../../cache/status.ts';
import type { Digest } from '../../storage/digest.ts';
import { notFound } from './reader.ts';
import type { SuiteFile } from './reader.ts';
import type { Generation } from './suite-gen.ts';

export const BY_HASH = /^(.+)\/by-hash\/SHA256\/([0-9a-f]{64})$/;
export const BY_SHA512 = /^(.+)\/by-hash\/SHA512\/([0-9a-f]{128})$/;
const RELEASE_FILES = ['InRelease', 'Release', 'Release.gpg'] as const;

/** A generated suite's file at `dists/<suite>/<path>`: a release file, an index, or an index by its hash (from this or a kept generation). */
export async function suiteFileOf(g: Generation, path: string, suite: string, byHash: (hex: string) => Promise<{ digest: Digest; size: number } | { bytes: Uint8Array }>, cache: CacheStatus): Promise<SuiteFile> {
  const id = g.id.replace(/^sha256:/, '').slice(0, 32);
  const rel = RELEASE_FILES.find((f) => f === path);
  if (rel) return { kind: 'bytes', bytes: rel === 'InRelease' ? g.inRelease : rel === 'Release' ? g.release : g.releaseGpg, etag: `${id}-${rel}`, modified: undefined, cache };
  const f = g.files.get(path);
  if (f) return { kind: 'bytes', bytes: f.bytes, etag: f.sha256, modified: undefined, cache };
  const m = BY_HASH.exec(path);
  if (m?.[2]) {
    const hex = m[2];
    const found = await byHash(hex);
    if ('bytes' in found) return { kind: 'bytes', bytes: found.bytes, etag: hex, modified: undefined, cache };
    return { kind: 'file', file: { kind: 'blob', digest: found.digest, size: found.size, cache } };
  }
  throw notFound(`dists/${suite}/${path}`);
}
