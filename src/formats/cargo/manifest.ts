import type { PublishMeta } from './index-entry.ts';
import { badCrate, sameVersion } from './names.ts';

/**
 * `name` and `version` of the `[package]` table of a Cargo.toml. Cargo writes the manifest of a
 * packaged crate itself (normalized: one key per line, basic or literal strings), so this reads
 * that shape only; a manifest written otherwise is refused rather than guessed at.
 */
export function packageOf(toml: string): { name?: string; version?: string } {
  const out: { name?: string; version?: string } = {};
  let inPackage = false;
  for (const raw of toml.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      inPackage = /^\[\s*(package|project)\s*\]\s*(#.*)?$/.test(line);
      continue;
    }
    if (!inPackage) continue;
    const m = /^(name|version)\s*=\s*(?:"([^"\\]*)"|'([^']*)')\s*(#.*)?$/.exec(line);
    if (m) out[m[1] as 'name' | 'version'] = m[2] ?? m[3] ?? '';
  }
  return out;
}

/** The crate must be what its metadata says: one top folder `<name>-<version>`, its Cargo.toml naming the same. */
export function checkManifest(found: { top: string; text: string }, meta: Pick<PublishMeta, 'name' | 'vers'>): void {
  const want = `${meta.name}-${meta.vers}`;
  if (found.top !== want) throw badCrate(`the crate's top folder is "${found.top.slice(0, 100)}", not "${want}" as its metadata says`);
  const p = packageOf(found.text);
  if (p.name !== meta.name) throw badCrate(`the crate's Cargo.toml names package "${(p.name ?? '').slice(0, 100)}", the metadata "${meta.name}"`);
  if (p.version === undefined || !sameVersion(p.version, meta.vers)) throw badCrate(`the crate's Cargo.toml has version "${(p.version ?? '').slice(0, 100)}", the metadata "${meta.vers}"`);
}
