import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import type { RepoKind } from '../format.ts';
import type { CachedFile } from '../remote-file.ts';
import type { ProjectPage } from './page.ts';

/** A project page as a repo answers it: validators, where it came from, and the page itself. */
export interface PageAnswer {
  etag: string;
  cache: CacheStatus;
  modified?: string | undefined;
  page(): Promise<ProjectPage>;
}

export interface PageOptions {
  via?: string | undefined;
  /** What the store holds only, never an upstream request (the web UI). */
  stored?: boolean;
}

/** What every PyPI repo (local, remote, virtual) answers; the HTTP layer renders it. */
export interface PypiReader {
  readonly name: string;
  readonly type: RepoKind;
  page(project: string, opts: PageOptions): Promise<PageAnswer>;
  /** The normalised names of the projects held (hosted or cached), at most `max`. */
  projects(max: number): Promise<string[]>;
  file(project: string, file: string, via?: string): Promise<CachedFile>;
  /** A wheel's PEP 658 `.metadata` file. */
  metadata(project: string, file: string, via?: string): Promise<CachedFile>;
  /** The metadata fields of an upload (hosted repos), for the JSON API's `info`. */
  info?(project: string, version: string): Promise<Record<string, string | string[]> | null>;
  /** Hosted repos: is the project here (the dependency-confusion guard)? */
  hosts?(project: string): Promise<boolean>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });
