import { RegistryError } from '../../errors.ts';
import { isSemver } from '../../util/semver.ts';

/**
 * Crate names as crates.io takes them: ASCII letters, digits, `-` and `_`, starting with a letter,
 * at most 64 characters. Windows device names are refused (a crate named `nul` cannot be unpacked
 * there).
 */
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const RESERVED = new Set(['nul', 'con', 'prn', 'aux', 'com1', 'com2', 'com3', 'com4', 'com5', 'com6', 'com7', 'com8', 'com9', 'lpt1', 'lpt2', 'lpt3', 'lpt4', 'lpt5', 'lpt6', 'lpt7', 'lpt8', 'lpt9']);

export const badCrate = (message: string): RegistryError => new RegistryError('invalid', message, { code: 'INVALID_CRATE' });

export function checkName(name: string): string {
  if (!NAME.test(name)) throw badCrate(`invalid crate name "${name.slice(0, 80)}": ASCII letters, digits, "-" and "_", starting with a letter, at most 64 characters`);
  if (RESERVED.has(name.toLowerCase())) throw badCrate(`crate name "${name}" is reserved (a Windows device name)`);
  return name;
}

export const isCrateName = (name: string): boolean => NAME.test(name);

/**
 * One crate per canonical name: case and `-`/`_` do not tell crates apart (crates.io refuses
 * `Foo_bar` beside `foo-bar`), so a hosted crate is stored under this key.
 */
export const canonicalName = (name: string): string => name.toLowerCase().replace(/_/g, '-');

/** A version as Cargo writes it: SemVer 2; build metadata (`+...`) does not make a new version. */
export function checkVersion(vers: string): string {
  if (vers.length > 128 || !isSemver(vers)) throw badCrate(`invalid version "${vers.slice(0, 80)}": not a SemVer version`);
  return vers;
}

export const sameVersion = (a: string, b: string): boolean => a.split('+')[0] === b.split('+')[0];

/** A sparse index file's path under `index/` for a (lower-cased) name: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...`. */
export function indexPath(name: string): string {
  const n = name.toLowerCase();
  return `${prefixOf(n)}/${n}`;
}

/** The folders of a name's index path, of the name as given (`dl`'s `{prefix}`; lower-cased: `{lowerprefix}`). */
export function prefixOf(name: string): string {
  if (name.length <= 2) return String(name.length);
  if (name.length === 3) return `3/${name[0]}`;
  return `${name.slice(0, 2)}/${name.slice(2, 4)}`;
}

/** The name an index path is for, when the path is the one `indexPath` gives for it; else null. */
export function nameOfIndexPath(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (!NAME.test(name) || name !== name.toLowerCase()) return null;
  return indexPath(name) === path ? name : null;
}
