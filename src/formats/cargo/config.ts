import * as v from 'valibot';
import { cachingRemoteFields, Permissions, repoFields, Size, virtualRepoSchema } from '../../config/parts.ts';

const CargoLocal = v.strictObject({
  ...repoFields('cargo', 'local'),
  /** The largest .crate taken (crates.io: 10 MiB). */
  maxCrateBytes: Size(1024, 10 * 1024 ** 2),
  /** The publish metadata's largest JSON. */
  maxMetadataBytes: Size(1024, 1 << 20),
  permissions: v.optional(Permissions),
});

const CargoRemote = v.strictObject({
  // The sparse index's base URL, without `sparse+` (https://index.crates.io/).
  // Index files are revalidated after metadataTtlSeconds (cargo asks for each one every build); crates never change.
  ...cachingRemoteFields('cargo'),
  maxIndexBytes: Size(1024, 32 << 20),
  maxCrateBytes: Size(1024, 1024 ** 3),
});

export const CargoRepoSchema = v.variant('type', [CargoLocal, CargoRemote, virtualRepoSchema('cargo')]);
export type CargoRepoConfig = v.InferOutput<typeof CargoRepoSchema>;
