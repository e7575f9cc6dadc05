import { cargoFormat } from './cargo/format.ts';
import { debianFormat } from './debian/format.ts';
import { dockerFormat } from './docker/format.ts';
import type { Format } from './format.ts';
import { genericFormat } from './generic/format.ts';
import { goFormat } from './go/format.ts';
import { helmFormat } from './helm/format.ts';
import { mavenFormat } from './maven/format.ts';
import { npmFormat } from './npm/format.ts';
import { pypiFormat } from './pypi/format.ts';

/** Every format this build serves: adding one is its folder, its schema in schemas.ts and a line here. */
export const FORMATS: readonly Format[] = [cargoFormat, debianFormat, dockerFormat, genericFormat, goFormat, helmFormat, mavenFormat, npmFormat, pypiFormat];

export function formatOf(id: string): Format | undefined {
  return FORMATS.find((f) => f.id === id);
}
