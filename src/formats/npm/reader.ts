import { RegistryError } from '../../errors.ts';
import type { CachedFile } from '../remote-file.ts';
import type { RepoKind } from '../format.ts';
import type { PackumentAnswer } from './packument.ts';

/** One line of `npm search` (the registry's /-/v1/search object, without scores). */
export interface SearchHit {
  name: string;
  version: string;
  description?: string;
  date?: string;
  keywords: string[];
  /** npm's search output lists (and filters on) maintainers' user names: always present. */
  maintainers: Array<{ username: string; email?: string }>;
}

export interface PackumentOptions {
  via?: string | undefined;
  fresh?: boolean;
  stored?: boolean;
}

/** What every npm repo (local, remote, virtual) answers; the HTTP layer renders it. */
export interface NpmReader {
  readonly name: string;
  readonly type: RepoKind;
  /**
   * `fresh`: `?write=true` or a tarball ahead of the cache; the upstream is asked whatever the TTL.
   * `stored`: what the store holds only, never an upstream request (the web UI).
   */
  packument(name: string, opts: PackumentOptions): Promise<PackumentAnswer>;
  /** The package names the repo holds (hosted or cached), at most `max`. */
  names(max: number): Promise<string[]>;
  /** A tarball by its file name under the package. */
  tarball(name: string, file: string, via?: string): Promise<CachedFile>;
  /** Names (and latest versions) matching a text, at most `size`. */
  search(text: string, size: number, via?: string): Promise<SearchHit[]>;
  /** Hosted repos: does the package exist here (the dependency-confusion guard)? */
  hosts?(name: string): Promise<boolean>;
}

export const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });

/** Search hits of a packument's latest version. */
export function hitOf(p: { name: string; maintainers?: unknown; 'dist-tags': Record<string, string>; versions: Record<string, Record<string, unknown>>; time: Record<string, string> }): SearchHit {
  const version = p['dist-tags']['latest'] ?? Object.keys(p.versions).pop() ?? '';
  const m = p.versions[version] ?? {};
  const people = Array.isArray(p['maintainers']) ? p['maintainers'] : [];
  const maintainers = people.flatMap((x) => (typeof x === 'object' && x !== null && typeof (x as { name?: unknown }).name === 'string' ? [{ username: (x as { name: string }).name, ...(typeof (x as { email?: unknown }).email === 'string' ? { email: (x as { email: string }).email } : {}) }] : []));
  const keywords = Array.isArray(m['keywords']) ? m['keywords'].filter((k): k is string => typeof k === 'string') : [];
  const hit: SearchHit = { name: p.name, version, keywords, maintainers };
  if (typeof m['description'] === 'string') hit.description = m['description'];
  const date = p.time[version] ?? p.time['modified'];
  if (date) hit.date = date;
  return hit;
}

/** Does a search text match a package (every word in its name, description or keywords)? */
export function matchesText(hit: SearchHit, text: string): boolean {
  const hay = `${hit.name} ${hit.description ?? ''} ${hit.keywords.join(' ')}`.toLowerCase();
  return text.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w));
}
