import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import type { RepoKind } from '../format.ts';
import type { CachedFile } from '../remote-file.ts';
import type { Stanza } from './control.ts';

/**
 * A served suite file: bytes, or a stored/streaming file (a remote's cached index). `modified` is
 * the Last-Modified where it names the content (a remote's upstream date); a generated suite has
 * none: two generations within one second would look alike to apt's If-Modified-Since, and a
 * Release dated ahead to tell them apart would be "not valid yet" for apt.
 */
export type SuiteFile = { kind: 'bytes'; bytes: Uint8Array; etag: string; modified: number | undefined; cache: CacheStatus } | { kind: 'file'; file: CachedFile };

/** What the merged index of a virtual repo reads from a member: its stanzas of one component and architecture. */
export interface MemberIndex {
  /** Names the member's generation (a virtual's generation is named by its members'). */
  gen: string;
  stanzas: () => Promise<Stanza[]>;
}

/** Every kind of Debian repo, as the HTTP layer and virtual repos see it. */
export interface DebReader {
  readonly type: RepoKind;
  readonly name: string;
  /** `dists/<suite>/<path>` (InRelease, Release, Release.gpg, an index, a by-hash file); `client` pins a remote's generation. */
  suiteFile(suite: string, path: string, client: string, via: string | undefined): Promise<SuiteFile>;
  /** `pool/...`: a package file listed by an index this repo serves. */
  pool(path: string, via: string | undefined, client: string): Promise<CachedFile>;
  /** The suite's generation name and a reader of one component/architecture's stanzas; null when the suite is not here. */
  index(suite: string, component: string, arch: string, via: string | undefined): Promise<MemberIndex | null>;
  /** Package names hosted here (a local repo; a virtual's guard against dependency confusion). */
  hosts?(suite: string): Promise<Set<string>>;
  suites(): Promise<string[]>;
  /** The components and binary architectures a suite lists (a remote: its Release; else the config). */
  shape(suite: string, via: string | undefined): Promise<{ components: string[]; architectures: string[] }>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });
