import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** cargo: $CARGO_BIN, else rustup's in ~/.cargo/bin when there, else the PATH's. */
export const CARGO = process.env['CARGO_BIN'] ?? (existsSync(join(homedir(), '.cargo', 'bin', 'cargo')) ? join(homedir(), '.cargo', 'bin', 'cargo') : 'cargo');

/** A dependency of a generated crate, as its manifest says it. */
export interface DepSpec {
  /** The name the manifest uses (a rename when `package` is set). */
  name: string;
  req: string;
  package?: string;
  optional?: boolean;
  target?: string;
  kind?: 'normal' | 'dev' | 'build';
  features?: string[];
}

export interface CrateSpec {
  name: string;
  vers: string;
  deps?: DepSpec[];
  features?: Record<string, string[]>;
  yanked?: boolean;
  /** Letters of filler in the crate (they gzip poorly), so downloads have some weight. */
  padding?: number;
}

const tomlKey = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));

/** A normalized Cargo.toml, as `cargo package` writes one. */
export function manifestOf(c: CrateSpec): string {
  const lines = ['[package]', 'edition = "2021"', `name = "${c.name}"`, `version = "${c.vers}"`, 'description = "generated for binaryrepo tests"', 'license = "MIT"', '', '[lib]', `name = "${c.name.toLowerCase().replace(/-/g, '_')}"`, 'path = "src/lib.rs"', ''];
  for (const d of c.deps ?? []) {
    const table = d.kind === 'dev' ? 'dev-dependencies' : d.kind === 'build' ? 'build-dependencies' : 'dependencies';
    lines.push(d.target ? `[target.${JSON.stringify(d.target)}.${table}.${tomlKey(d.name)}]` : `[${table}.${tomlKey(d.name)}]`, `version = "${d.req}"`);
    if (d.package) lines.push(`package = "${d.package}"`);
    if (d.optional) lines.push('optional = true');
    if (d.features?.length) lines.push(`features = [${d.features.map((f) => JSON.stringify(f)).join(', ')}]`);
    lines.push('');
  }
  if (c.features && Object.keys(c.features).length > 0) {
    lines.push('[features]');
    for (const [k, v] of Object.entries(c.features)) lines.push(`${tomlKey(k)} = [${v.map((x) => JSON.stringify(x)).join(', ')}]`);
    lines.push('');
  }
  return lines.join('\n');
}

/** A .crate file: `<name>-<vers>/` with Cargo.toml, Cargo.toml.orig and src/lib.rs, tar + gzip. */
export async function crateFile(c: CrateSpec, manifest = manifestOf(c)): Promise<Uint8Array> {
  const p = pack();
  const top = `${c.name}-${c.vers}`;
  const lib = `pub fn version() -> &'static str { "${c.vers}" }\n${c.padding ? `pub const PAD: &str = "${noise(`${c.name}@${c.vers}`, c.padding)}";\n` : ''}`;
  const chunks: Buffer[] = [];
  p.on('data', (b: unknown) => chunks.push(b as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve());
    p.on('error', reject);
  });
  for (const [name, text] of [
    ['Cargo.toml', manifest],
    ['Cargo.toml.orig', manifest],
    ['src/lib.rs', lib],
  ] as const) {
    p.entry({ name: `${top}/${name}`, mtime: new Date(0), mode: 0o644 }, text);
  }
  p.finalize();
  await done;
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

/** `n` letters that gzip poorly, the same for the same seed (a crate's weight survives compression). */
function noise(seed: string, n: number): string {
  let x = Number.parseInt(createHash('sha256').update(seed).digest('hex').slice(0, 8), 16) || 1;
  const abc = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += abc[(x >>> 0) % abc.length];
  }
  return out;
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function indexPathOf(name: string): string {
  const n = name.toLowerCase();
  if (n.length <= 2) return `${n.length}/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** The index line of a generated crate (the registry index format, v2 where features need it). */
export function indexLine(c: CrateSpec, cksum: string): Record<string, unknown> {
  const deps = (c.deps ?? []).map((d) => ({ name: d.name, req: d.req, features: d.features ?? [], optional: d.optional ?? false, default_features: true, target: d.target ?? null, kind: d.kind ?? 'normal', ...(d.package ? { package: d.package } : {}) }));
  const all = c.features ?? {};
  const v2 = Object.fromEntries(Object.entries(all).filter(([, v]) => v.some((x) => x.startsWith('dep:') || x.includes('?/'))));
  const v1 = Object.fromEntries(Object.entries(all).filter(([k]) => !(k in v2)));
  return { name: c.name, vers: c.vers, deps, cksum, features: v1, ...(Object.keys(v2).length ? { features2: v2, v: 2 } : {}), yanked: c.yanked ?? false, links: null };
}

/**
 * A sparse registry tree (what a static server serves): `index/<path>` files, `crates/<name>/<name>-<vers>.crate`.
 * config.json is written by `writeRegistryConfig` once the server's port is known. With `cargoPackage`
 * (a sparse index URL serving this same tree, and a work folder), the crates it names are made by
 * `cargo package` itself (their dependencies resolved from the crates written before them);
 * the others by `crateFile`. Index files are written as each crate is added, so later crates see earlier ones.
 */
export async function buildSparseTree(root: string, crates: CrateSpec[], cargoPackage?: { index: string; work: string; names: Set<string> }): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const lines = new Map<string, string[]>();
  for (const c of crates) {
    const bytes = cargoPackage?.names.has(c.name) ? await packaged(c, cargoPackage) : await crateFile(c);
    files.set(`${c.name}@${c.vers}`, bytes);
    const path = join(root, 'crates', c.name, `${c.name}-${c.vers}.crate`);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    const ip = indexPathOf(c.name);
    lines.set(ip, [...(lines.get(ip) ?? []), JSON.stringify(indexLine(c, sha256(bytes)))]);
    await mkdir(dirname(join(root, 'index', ip)), { recursive: true });
    await writeFile(join(root, 'index', ip), `${(lines.get(ip) ?? []).join('\n')}\n`);
  }
  return files;
}

/** A crate made by `cargo package` from a manifest as a user writes it (the tree's own index resolving its dependencies). */
async function packaged(c: CrateSpec, with_: { index: string; work: string }): Promise<Uint8Array> {
  const dir = join(with_.work, `pkg-${c.name}-${c.vers}`);
  const toml = manifestOf(c).replace(/^\[lib\]\nname = .*\npath = .*\n/m, '');
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'Cargo.toml'), toml);
  await writeFile(join(dir, 'src', 'lib.rs'), `pub fn version() -> &'static str { "${c.vers}" }\n`);
  const home = await cargoHome(join(with_.work, 'pkg-home'), with_.index);
  const r = await cargo(['package', '--no-verify', '--allow-dirty'], { cwd: dir, home });
  if (r.code !== 0) throw new Error(`cargo package ${c.name} ${c.vers}: ${r.out}`);
  return new Uint8Array(await readFile(join(home, 'target', 'package', `${c.name}-${c.vers}.crate`)));
}

export async function writeRegistryConfig(root: string, baseUrl: string): Promise<void> {
  await mkdir(join(root, 'index'), { recursive: true });
  await writeFile(join(root, 'index', 'config.json'), JSON.stringify({ dl: `${baseUrl}/crates/{crate}/{crate}-{version}.crate`, api: null }));
}

/**
 * A CARGO_HOME whose crates.io is replaced by the registry `mirror` (named so) at `index` (a registry, so an
 * auth-required one gets its token), with named registries besides.
 */
export async function cargoHome(home: string, index: string, registries: Record<string, string> = {}, mirror = 'mirror'): Promise<string> {
  await mkdir(home, { recursive: true });
  const regs = Object.entries({ [mirror]: index, ...registries }).map(([n, url]) => `[registries.${n}]\nindex = "sparse+${url}"\n`);
  await writeFile(
    join(home, 'config.toml'),
    `[source.crates-io]\nreplace-with = "${mirror}"\n\n${regs.join('\n')}\n[registry]\nglobal-credential-providers = ["cargo:token"]\n\n[net]\nretry = 1\n\n[http]\ntimeout = 30\n`,
  );
  return home;
}

/** A binary crate depending on `deps` (manifest lines under [dependencies]). */
export async function writeApp(dir: string, name: string, deps: string[], extra = ''): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n${deps.join('\n')}\n${extra}`);
  await writeFile(join(dir, 'src', 'main.rs'), 'fn main() {}\n');
}

/** A library crate to publish. */
export async function writeLib(dir: string, name: string, vers: string, deps: string[] = [], lib = 'pub fn answer() -> u32 { 42 }\n'): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'Cargo.toml'), `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\ndescription = "a crate published in binaryrepo's tests"\nlicense = "MIT"\n\n[dependencies]\n${deps.join('\n')}\n`);
  await writeFile(join(dir, 'src', 'lib.rs'), lib);
}

export interface CargoRun {
  code: number;
  out: string;
}

/** cargo with its own CARGO_HOME and target folder; nothing of the machine's cargo setup leaks in. */
export function cargo(args: string[], opts: { cwd: string; home: string; env?: Record<string, string>; input?: string }): Promise<CargoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(CARGO, args, {
      cwd: opts.cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: opts.home, RUSTUP_HOME: process.env['RUSTUP_HOME'] ?? join(homedir(), '.rustup'), CARGO_HOME: opts.home, CARGO_TARGET_DIR: join(opts.home, 'target'), CARGO_TERM_COLOR: 'never', CARGO_TERM_PROGRESS_WHEN: 'never', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The body of `cargo publish`: u32 LE length + JSON, u32 LE length + crate. */
export function publishFrame(meta: Record<string, unknown>, crate: Uint8Array, lengths: { json?: number; crate?: number } = {}): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ features: {}, authors: [], keywords: [], categories: [], ...meta }));
  const out = new Uint8Array(8 + json.byteLength + crate.byteLength);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, lengths.json ?? json.byteLength, true);
  out.set(json, 4);
  dv.setUint32(4 + json.byteLength, lengths.crate ?? crate.byteLength, true);
  out.set(crate, 8 + json.byteLength);
  return out;
}
