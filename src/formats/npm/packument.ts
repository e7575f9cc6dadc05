import type { CacheStatus } from '../../cache/status.ts';
import type { Checksum } from '../../storage/digest.ts';

/** A packument (the registry's document of one package) as JSON: loosely typed, kept as sent. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface Packument extends JsonObject {
  name: string;
  versions: { [version: string]: JsonObject };
  'dist-tags': { [tag: string]: string };
  time: { [k: string]: string };
}

/**
 * Stands for `<origin>/repo/<repo>` in stored documents' tarball URLs: the base depends on the
 * request (the virtual repo it came through, X-Forwarded-*), so documents are stored and rendered
 * once with this marker and only the marker is replaced per base (no parse per request).
 */
export const BASE_MARK = 'http://binaryrepo.invalid/.base';

/** A packument answer: the two representations as bytes (tarball URLs under BASE_MARK), built on first use. */
export interface PackumentAnswer {
  /** Changes whenever either representation does. */
  etag: string;
  cache: CacheStatus;
  /** When the content last changed (the packument's `modified`), for Last-Modified. */
  modified?: string | undefined;
  full(): Promise<Uint8Array>;
  abbreviated(): Promise<Uint8Array>;
  /** The full document, parsed (virtual merges, version lookups). */
  doc(): Promise<Packument>;
}

const isObject = (j: Json | undefined): j is JsonObject => typeof j === 'object' && j !== null && !Array.isArray(j);

/** A document from JSON bytes, checked to have the shape clients rely on (else null). */
export function asPackument(j: unknown): Packument | null {
  if (!isObject(j as Json) || typeof (j as JsonObject)['name'] !== 'string') return null;
  const o = j as JsonObject;
  const versions = isObject(o['versions']) ? o['versions'] : {};
  for (const [k, v] of Object.entries(versions)) if (!isObject(v)) delete versions[k];
  const tags = isObject(o['dist-tags']) ? o['dist-tags'] : {};
  for (const [k, v] of Object.entries(tags)) if (typeof v !== 'string') delete tags[k];
  const time = isObject(o['time']) ? o['time'] : {};
  return { ...o, name: o['name'] as string, versions: versions as Packument['versions'], 'dist-tags': tags as Packument['dist-tags'], time: time as Packument['time'] };
}

/** The fields of a version npm's resolver reads (the registry's "corgi" document). */
const ABBREVIATED = [
  'name', 'version', 'deprecated', 'dependencies', 'optionalDependencies', 'devDependencies', 'bundleDependencies', 'bundledDependencies',
  'peerDependencies', 'peerDependenciesMeta', 'acceptDependencies', 'bin', 'directories', 'dist', 'engines', 'os', 'cpu', 'libc',
  '_hasShrinkwrap', 'hasInstallScript', 'funding', 'license',
] as const;

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

export function abbreviate(p: Packument): JsonObject {
  const versions: JsonObject = {};
  for (const [ver, m] of Object.entries(p.versions)) {
    const a: JsonObject = {};
    for (const f of ABBREVIATED) if (m[f] !== undefined) a[f] = m[f];
    const scripts = m['scripts'];
    if (a['hasInstallScript'] === undefined && isObject(scripts) && INSTALL_SCRIPTS.some((s) => typeof scripts[s] === 'string')) a['hasInstallScript'] = true;
    versions[ver] = a;
  }
  return { name: p.name, modified: p.time['modified'] ?? new Date(0).toISOString(), 'dist-tags': p['dist-tags'], versions };
}

export const encodeJson = (j: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(j));

/** The tarball a version names, and the checksum its dist asks for (sha512 integrity first, sha1 shasum for old packages). */
export function distOf(m: JsonObject): { tarball?: string; integrity?: string; shasum?: string } {
  const dist = isObject(m['dist']) ? m['dist'] : {};
  const s = (k: string): string | undefined => (typeof dist[k] === 'string' ? (dist[k] as string) : undefined);
  const out: { tarball?: string; integrity?: string; shasum?: string } = {};
  const t = s('tarball');
  const i = s('integrity');
  const h = s('shasum');
  if (t) out.tarball = t;
  if (i) out.integrity = i;
  if (h) out.shasum = h;
  return out;
}

/** Sets a version's dist.tarball (a copy of dist: the caller's document is its own). */
export function withTarball(m: JsonObject, url: string): JsonObject {
  const dist = isObject(m['dist']) ? m['dist'] : {};
  return { ...m, dist: { ...dist, tarball: url } };
}

/** The bytes of a stored representation with BASE_MARK replaced by `base` (JSON-escaped). */
export function withBase(bytes: Uint8Array, base: string): Uint8Array {
  const text = new TextDecoder().decode(bytes);
  const escaped = JSON.stringify(base).slice(1, -1);
  return new TextEncoder().encode(text.split(BASE_MARK).join(escaped));
}

const hexOfBase64 = (b64: string): string | null => {
  try {
    return [...atob(b64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
};

const base64OfHex = (hex: string): string => btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))));

/** The strongest checksum a dist names: sha512 from `integrity` (SRI, several allowed), else sha1 (`shasum`, or sha1 SRI). */
export function checksumOf(dist: { integrity?: string | undefined; shasum?: string | undefined }): Checksum | undefined {
  const sri = (dist.integrity ?? '').split(/\s+/).filter(Boolean);
  for (const alg of ['sha512', 'sha1'] as const) {
    const hit = sri.find((s) => s.startsWith(`${alg}-`));
    const hex = hit ? hexOfBase64(hit.slice(alg.length + 1).split('?')[0] ?? '') : null;
    if (hex && hex.length === (alg === 'sha512' ? 128 : 40)) return { algorithm: alg, hex };
    if (alg === 'sha512' && hit) return { algorithm: 'sha512', hex: '' };
  }
  if (dist.shasum && /^[0-9a-f]{40}$/i.test(dist.shasum)) return { algorithm: 'sha1', hex: dist.shasum.toLowerCase() };
  return undefined;
}

/** `sha512-<base64>` of a sha512 in hex. */
export const integrityOf = (sha512hex: string): string => `sha512-${base64OfHex(sha512hex)}`;
