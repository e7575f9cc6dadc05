import * as v from 'valibot';
import { badCrate, checkName, checkVersion } from './names.ts';

/** A dependency as the index lists it (the registry's index format). */
export interface IndexDep {
  name: string;
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: 'normal' | 'dev' | 'build';
  registry?: string | null;
  package?: string;
}

/** One line of a sparse index file: one version of a crate. */
export interface IndexEntry {
  name: string;
  vers: string;
  deps: IndexDep[];
  cksum: string;
  features: Record<string, string[]>;
  features2?: Record<string, string[]>;
  yanked: boolean;
  links: string | null;
  v?: number;
  rust_version?: string;
  pubtime?: string;
}

const Str = v.pipe(v.string(), v.maxLength(1024));
const OptStr = v.nullish(v.pipe(v.string(), v.maxLength(64 * 1024)));
const Features = v.pipe(v.record(v.pipe(v.string(), v.maxLength(256)), v.pipe(v.array(v.pipe(v.string(), v.maxLength(512))), v.maxLength(1000))), v.check((r) => Object.keys(r).length <= 1000, 'at most 1000 features'));

/** The JSON of `cargo publish` (the web API's `PUT /api/v1/crates/new`), as far as we read it. */
const PublishDep = v.object({
  name: Str,
  version_req: Str,
  features: v.optional(v.array(Str), []),
  optional: v.optional(v.boolean(), false),
  default_features: v.optional(v.boolean(), true),
  target: v.nullish(Str),
  kind: v.optional(v.picklist(['normal', 'dev', 'build']), 'normal'),
  registry: v.nullish(Str),
  explicit_name_in_toml: v.nullish(Str),
});

const Publish = v.object({
  name: Str,
  vers: Str,
  deps: v.pipe(v.array(PublishDep), v.maxLength(2000)),
  features: v.optional(Features, {}),
  authors: v.optional(v.array(Str), []),
  description: OptStr,
  documentation: OptStr,
  homepage: OptStr,
  license: OptStr,
  license_file: OptStr,
  repository: OptStr,
  keywords: v.optional(v.array(Str), []),
  categories: v.optional(v.array(Str), []),
  links: v.nullish(Str),
  rust_version: v.nullish(Str),
});

export type PublishMeta = v.InferOutput<typeof Publish>;

/** An index line from elsewhere (a bundle): every field cargo reads, checked. */
const Entry = v.object({
  name: Str,
  vers: Str,
  deps: v.pipe(
    v.array(v.object({ name: Str, req: Str, features: v.array(Str), optional: v.boolean(), default_features: v.boolean(), target: v.nullable(Str), kind: v.picklist(['normal', 'dev', 'build']), registry: v.nullish(Str), package: v.optional(Str) })),
    v.maxLength(2000),
  ),
  cksum: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  features: Features,
  features2: v.optional(Features),
  yanked: v.boolean(),
  links: v.nullable(Str),
  v: v.optional(v.number()),
  rust_version: v.optional(Str),
  pubtime: v.optional(Str),
});

export function parseEntry(json: unknown): IndexEntry {
  const r = v.safeParse(Entry, json);
  if (!r.success) throw badCrate(`the index line is not valid${r.issues[0].path ? ` at ${r.issues[0].path.map((p) => String(p.key)).join('.')}` : ''}: ${r.issues[0].message}`);
  checkName(r.output.name);
  checkVersion(r.output.vers);
  for (const d of r.output.deps) checkName(d.name);
  return r.output as IndexEntry;
}

/** What we keep of a version beside its index line (the web UI and search show it). */
export interface VersionInfo {
  description?: string;
  license?: string;
  repository?: string;
  homepage?: string;
  documentation?: string;
  keywords?: string[];
  authors?: string[];
}

export function parsePublish(json: unknown): PublishMeta {
  const r = v.safeParse(Publish, json);
  if (!r.success) {
    const issue = r.issues[0];
    const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw badCrate(`the publish metadata is not valid${where ? ` at ${where}` : ''}: ${issue.message}`);
  }
  checkName(r.output.name);
  checkVersion(r.output.vers);
  for (const d of r.output.deps) checkName(d.explicit_name_in_toml ?? d.name);
  return r.output;
}

/** A feature value only Cargo 1.60+ reads (`dep:x`, `x?/f`): such features go to `features2` with `v: 2`, as crates.io writes them. */
const isNewSyntax = (value: string): boolean => value.startsWith('dep:') || value.includes('?/');

/**
 * The index line of a publish: `version_req` → `req`; a renamed dependency listed under the name
 * the manifest uses, its crate in `package`; `registry` null when it is this registry; the
 * checksum is the one we computed over the stored crate.
 */
export function entryOf(p: PublishMeta, cksum: string, now: number): IndexEntry {
  const deps: IndexDep[] = p.deps.map((d) => {
    const dep: IndexDep = { name: d.explicit_name_in_toml ?? d.name, req: d.version_req, features: d.features, optional: d.optional, default_features: d.default_features, target: d.target ?? null, kind: d.kind };
    if (d.registry) dep.registry = d.registry;
    if (d.explicit_name_in_toml && d.explicit_name_in_toml !== d.name) dep.package = d.name;
    return dep;
  });
  const features: Record<string, string[]> = {};
  const features2: Record<string, string[]> = {};
  for (const [k, vals] of Object.entries(p.features)) (vals.some(isNewSyntax) ? features2 : features)[k] = vals;
  const e: IndexEntry = { name: p.name, vers: p.vers, deps, cksum, features, yanked: false, links: p.links ?? null };
  if (Object.keys(features2).length > 0) {
    e.features2 = features2;
    e.v = 2;
  }
  if (p.rust_version) e.rust_version = p.rust_version;
  e.pubtime = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return e;
}

export function infoOf(p: PublishMeta): VersionInfo {
  const out: VersionInfo = {};
  for (const k of ['description', 'license', 'repository', 'homepage', 'documentation'] as const) {
    const val = p[k];
    if (val) out[k] = val.slice(0, 4096);
  }
  if (p.keywords.length) out.keywords = p.keywords.slice(0, 20);
  if (p.authors.length) out.authors = p.authors.slice(0, 50);
  return out;
}

/** The lines of an index file, as bytes: one JSON object per version, oldest first. */
export function renderIndex(entries: readonly IndexEntry[]): Uint8Array {
  return new TextEncoder().encode(entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/** The entries of an index file (an upstream's): lines that are not a version object are skipped. */
export function parseIndex(bytes: Uint8Array): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (const line of new TextDecoder().decode(bytes).split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Partial<IndexEntry>;
      if (typeof e.name === 'string' && typeof e.vers === 'string' && typeof e.cksum === 'string' && /^[0-9a-f]{64}$/.test(e.cksum)) out.push(e as IndexEntry);
    } catch {
      // A line we cannot read is cargo's to judge (it skips it too); we serve the upstream's bytes as they are.
    }
  }
  return out;
}
