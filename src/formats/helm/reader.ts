import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import type { ChunkSource } from '../../http/chunk-source.ts';
import type { Digest } from '../../storage/digest.ts';
import type { Entries, IndexFormat } from './index-file.ts';

/** What a Helm repo answers for a file: stored bytes, a download in progress, or bytes in memory (index.yaml). */
export type HelmFile =
  | { kind: 'blob'; digest: Digest; size: number; cache: CacheStatus }
  | { kind: 'stream'; size: number | undefined; open: (start: number, end: number | undefined) => ChunkSource; cache: CacheStatus }
  | { kind: 'bytes'; body: Uint8Array; etag: string; cache: CacheStatus };

export interface HelmReader {
  readonly name: string;
  readonly type: 'local' | 'remote' | 'virtual';
  readonly indexFormat: IndexFormat;
  /** The repo's index entries (URLs relative to the repo: `charts/<file>`) and a token that changes whenever they do. */
  entries(via?: string): Promise<{ entries: Entries; token: string }>;
  /** index.yaml as this repo serves it. */
  indexFile(via?: string): Promise<HelmFile>;
  /** `charts/<name>-<version>.tgz` or its `.prov`. */
  file(file: string, via?: string): Promise<HelmFile>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `${what} not found`, { code: 'NOT_FOUND' });

/** Chart archive file names: `<name>-<version>.tgz` and the provenance file beside it. */
export function splitFile(file: string): { archive: string; prov: boolean } | null {
  const prov = file.endsWith('.tgz.prov');
  const archive = prov ? file.slice(0, -'.prov'.length) : file;
  if (!archive.endsWith('.tgz') || archive.length > 300 || /[/\\\x00-\x1f]/.test(archive)) return null;
  return { archive, prov };
}
