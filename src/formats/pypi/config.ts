import * as v from 'valibot';
import { cachingRemoteFields, Permissions, repoFields, RepoName, Size, virtualRepoSchema } from '../../config/parts.ts';

/** Project-name patterns (`corp-*`, `numpy`, `*`), matched against normalised names (PEP 503). */
const NamePatterns = v.array(v.pipe(v.string(), v.regex(/^[a-z0-9*._-]+$/i, 'must be a project name pattern')));

const PypiLocal = v.strictObject({
  ...repoFields('pypi', 'local'),
  /** The largest file an upload may carry (wheels of scientific stacks are hundreds of MB). */
  maxFileBytes: Size(1024, 2 * 1024 ** 3),
  /** Deleting files and versions (through the admin API and UI; needs delete permission). */
  delete: v.optional(v.boolean(), true),
  permissions: v.optional(Permissions),
});

const PypiRemote = v.strictObject({
  // The simple index's base URL (https://pypi.org/simple); project pages are `<url>/<project>/`.
  // Project pages are revalidated after metadataTtlSeconds; files never change.
  ...cachingRemoteFields('pypi'),
  /** The largest upstream project page read (a 50 MB page is refused by default). */
  maxPageBytes: Size(1024, 32 << 20),
  maxFileBytes: Size(1024, 4 * 1024 ** 3),
});

/** Per member: which projects it may answer (`include`) and which never (`exclude`, e.g. `corp-*` for a public remote). */
const MemberFilter = v.strictObject({ include: v.optional(NamePatterns), exclude: v.optional(NamePatterns) });

const PypiVirtual = v.strictObject({
  ...virtualRepoSchema('pypi').entries,
  filters: v.optional(v.record(RepoName, MemberFilter), {}),
});

export const PypiRepoSchema = v.variant('type', [PypiLocal, PypiRemote, PypiVirtual]);
export type PypiRepoConfig = v.InferOutput<typeof PypiRepoSchema>;
