import * as v from 'valibot';
import { Permissions, Upstream, metadataCache, repoFields, virtualRepoSchema } from '../../config/parts.ts';

const Size = (min: number, def: number) => v.optional(v.pipe(v.number(), v.integer(), v.minValue(min)), def);

const CargoLocal = v.strictObject({
  ...repoFields('cargo', 'local'),
  /** The largest .crate taken (crates.io: 10 MiB). */
  maxCrateBytes: Size(1024, 10 * 1024 ** 2),
  /** The publish metadata's largest JSON. */
  maxMetadataBytes: Size(1024, 1 << 20),
  permissions: v.optional(Permissions),
});

const CargoRemote = v.strictObject({
  ...repoFields('cargo', 'remote'),
  /** The sparse index's base URL, without `sparse+` (https://index.crates.io/). */
  upstream: Upstream,
  /** Index files are revalidated after metadataTtlSeconds (cargo asks for each one every build); crates never change. */
  cache: metadataCache,
  maxIndexBytes: Size(1024, 32 << 20),
  maxCrateBytes: Size(1024, 1024 ** 3),
  offline: v.optional(v.boolean(), false),
  permissions: v.optional(Permissions),
});

export const CargoRepoSchema = v.variant('type', [CargoLocal, CargoRemote, virtualRepoSchema('cargo')]);
export type CargoRepoConfig = v.InferOutput<typeof CargoRepoSchema>;
