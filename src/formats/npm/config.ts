import * as v from 'valibot';
import { cachingRemoteFields, Permissions, repoFields, RepoName, Size, virtualRepoSchema } from '../../config/parts.ts';

/** Package-name patterns (`@corp/*`, `left-pad`, `*`): `*` matches within a name, `@scope/*` a whole scope. */
const NamePatterns = v.array(v.pipe(v.string(), v.regex(/^[@a-z0-9*._~/-]+$/i, 'must be an npm package name pattern')));

const NpmLocal = v.strictObject({
  ...repoFields('npm', 'local'),
  /** The largest tarball a publish may carry (the whole publish document is bounded by it plus `maxDocumentBytes`). */
  maxTarballBytes: Size(1024, 256 << 20),
  /** The publish document without its attachment, and every stored packument, at most. */
  maxDocumentBytes: Size(1024, 32 << 20),
  /** `npm unpublish` (needs delete permission). */
  unpublish: v.optional(v.boolean(), true),
  permissions: v.optional(Permissions),
});

const NpmRemote = v.strictObject({
  // The registry's base URL (https://registry.npmjs.org/).
  // Packuments are revalidated after metadataTtlSeconds; tarballs never change.
  ...cachingRemoteFields('npm'),
  /** The largest upstream packument read (typescript's full document is ~15 MB; a 50 MB one is refused by default). */
  maxPackumentBytes: Size(1024, 40 << 20),
  maxTarballBytes: Size(1024, 1 << 30),
});

/** Per member: which names it may answer (`include`) and which never (`exclude`, e.g. `@corp/*` for a public remote). */
const MemberFilter = v.strictObject({ include: v.optional(NamePatterns), exclude: v.optional(NamePatterns) });

const NpmVirtual = v.strictObject({
  ...virtualRepoSchema('npm').entries,
  filters: v.optional(v.record(RepoName, MemberFilter), {}),
  /**
   * The dependency-confusion guard: a name any local member has is answered from local members
   * only. Off only for a virtual that deliberately mixes a hosted fork with its public versions.
   */
  localNamesShadow: v.optional(v.boolean(), true),
});

export const NpmRepoSchema = v.variant('type', [NpmLocal, NpmRemote, NpmVirtual]);
export type NpmRepoConfig = v.InferOutput<typeof NpmRepoSchema>;
