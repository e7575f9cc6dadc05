import * as v from 'valibot';
import { CargoRepoSchema } from './cargo/config.ts';
import { DebianRepoSchema } from './debian/config.ts';
import { DockerRepoSchema } from './docker/config.ts';
import { GenericRepoSchema } from './generic/config.ts';
import { GoRepoSchema } from './go/config.ts';
import { HelmRepoSchema } from './helm/config.ts';
import { MavenRepoSchema } from './maven/config.ts';
import { NpmRepoSchema } from './npm/config.ts';
import { PypiRepoSchema } from './pypi/config.ts';

/**
 * Every format's repo config, a variant on `format` (then on `type`). Kept apart from the formats'
 * code so the config schema depends on schemas only. A new format adds its schema here and its
 * `Format` in registry.ts.
 */
export const RepoSchema = v.variant('format', [CargoRepoSchema, DebianRepoSchema, DockerRepoSchema, GenericRepoSchema, GoRepoSchema, HelmRepoSchema, MavenRepoSchema, NpmRepoSchema, PypiRepoSchema]);
