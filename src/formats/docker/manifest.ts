import { RegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { MEDIA } from './media.ts';

/** A content descriptor (OCI image-spec descriptor.md), digest already parsed. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  /** Blobs the manifest needs: config and layers (empty for an index). */
  blobs: Descriptor[];
  /** Child manifests (an index's entries). */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** artifactType, else the config media type, per the referrers API rules. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

const IMAGE_TYPES = new Set<string>([MEDIA.dockerManifest, MEDIA.ociManifest]);
const INDEX_TYPES = new Set<string>([MEDIA.dockerList, MEDIA.ociIndex]);
/** Layers that live outside registries (Windows base layers): never required to be present. */
const FOREIGN = /\.foreign\.|nondistributable/;

const invalid = (message: string): RegistryError => new RegistryError('invalid', message, { code: 'MANIFEST_INVALID' });

/**
 * Parses and checks a pushed manifest: JSON, a supported media type that agrees with the
 * Content-Type, and well-formed descriptors. Existence of what it references is checked by the
 * repo (which knows what it holds); this file only knows the formats.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | null): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('manifest is not valid UTF-8 JSON');
  }
  if (!isObject(doc)) throw invalid('manifest must be a JSON object');
  const header = contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
  const declared = typeof doc['mediaType'] === 'string' ? doc['mediaType'] : undefined;
  if (header && declared && header !== declared) {
    throw invalid(`Content-Type ${header} does not match the manifest's mediaType ${declared}`);
  }
  const mediaType = declared ?? header ?? (Array.isArray(doc['manifests']) ? MEDIA.ociIndex : MEDIA.ociManifest);
  if (doc['schemaVersion'] !== 2) throw invalid('schemaVersion must be 2');
  const subject = doc['subject'] === undefined ? undefined : descriptor(doc['subject'], 'subject');
  const annotations = stringMap(doc['annotations'], 'annotations');
  const artifactType = typeof doc['artifactType'] === 'string' ? doc['artifactType'] : undefined;
  if (IMAGE_TYPES.has(mediaType)) {
    if (Array.isArray(doc['manifests'])) throw invalid('an image manifest has no "manifests"');
    const config = descriptor(doc['config'], 'config');
    if (!Array.isArray(doc['layers'])) throw invalid('"layers" must be an array');
    const layers = doc['layers'].map((l, i) => descriptor(l, `layers[${i}]`));
    return {
      mediaType,
      kind: 'image',
      blobs: [config, ...layers],
      manifests: [],
      ...(subject ? { subject } : {}),
      ...(artifactType || mediaType === MEDIA.ociManifest ? { artifactType: artifactType ?? config.mediaType } : {}),
      ...(annotations ? { annotations } : {}),
    };
  }
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc['manifests'])) throw invalid('"manifests" must be an array');
    if (doc['layers'] !== undefined || doc['config'] !== undefined) throw invalid('an index has no config or layers');
    return {
      mediaType,
      kind: 'index',
      blobs: [],
      manifests: doc['manifests'].map((m, i) => descriptor(m, `manifests[${i}]`)),
      ...(subject ? { subject } : {}),
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    };
  }
  throw invalid(`unsupported manifest media type ${mediaType}`);
}

/** Whether a referenced blob must be present in the registry before the manifest is accepted. */
export function mustExist(d: Descriptor): boolean {
  return !isForeign(d.mediaType, d.urls);
}

/** A non-distributable layer fetched from its own `urls`, never from a registry. */
export function isForeign(mediaType: string, urls: unknown[] | undefined): boolean {
  return FOREIGN.test(mediaType) && (urls?.length ?? 0) > 0;
}

/** The manifest bytes as a descriptor, the shape the referrers index lists. */
/**
 * Annotations a referrer descriptor copies from its manifest, at most (JSON bytes). Any writer
 * can point referrers at any subject; without a bound one push could copy megabytes into every
 * listing of that subject. Larger annotations are left out of the descriptor (the manifest keeps them).
 */
export const REFERRER_ANNOTATIONS_MAX = 16 * 1024;

export function referrerDescriptor(m: ParsedManifest, digest: Digest, size: number): Record<string, unknown> {
  const annotations = m.annotations && JSON.stringify(m.annotations).length <= REFERRER_ANNOTATIONS_MAX ? m.annotations : undefined;
  return {
    mediaType: m.mediaType,
    digest: digest.value,
    size,
    ...(m.artifactType ? { artifactType: m.artifactType } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

function descriptor(v: unknown, where: string): Descriptor {
  if (!isObject(v)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/.test(mediaType)) {
    throw invalid(`${where}.mediaType is missing or malformed`);
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  const parsed = typeof digest === 'string' ? parseDigest(digest) : undefined;
  if (!parsed?.ok) {
    throw new RegistryError('invalid', `${where}.digest is missing or malformed`, { code: 'MANIFEST_INVALID', detail: { digest } });
  }
  const annotations = stringMap(v['annotations'], `${where}.annotations`);
  const urls = Array.isArray(v['urls']) ? v['urls'].filter((u): u is string => typeof u === 'string') : undefined;
  return {
    mediaType,
    digest: parsed.digest,
    size,
    ...(typeof v['artifactType'] === 'string' ? { artifactType: v['artifactType'] } : {}),
    ...(annotations ? { annotations } : {}),
    ...(urls ? { urls } : {}),
  };
}

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) throw invalid(`${where} must map strings to strings`);
  return v as Record<string, string>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A descriptor read leniently from any manifest-shaped JSON (upstream documents, the store). */
export interface LooseDescriptor {
  digest: string;
  size?: number;
  mediaType?: string;
  urls?: unknown[];
}

/**
 * Every descriptor a manifest or index names (config, layers, manifests, blobs), read leniently:
 * what gc marks, fsck checks and fills cap. Bytes that are not JSON name nothing.
 */
export function looseDescriptors(bytes: Uint8Array | null): LooseDescriptor[] {
  if (!bytes) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return [];
  }
  if (!isObject(doc)) return [];
  const out: LooseDescriptor[] = [];
  const take = (v: unknown): void => {
    if (!isObject(v) || typeof v['digest'] !== 'string') return;
    const size = v['size'];
    out.push({
      digest: v['digest'],
      ...(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? { size } : {}),
      ...(typeof v['mediaType'] === 'string' ? { mediaType: v['mediaType'] } : {}),
      ...(Array.isArray(v['urls']) ? { urls: v['urls'] } : {}),
    });
  };
  take(doc['config']);
  for (const k of ['layers', 'manifests', 'blobs']) if (Array.isArray(doc[k])) (doc[k] as unknown[]).forEach(take);
  return out;
}
