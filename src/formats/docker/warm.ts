import type { FillManager } from '../../cache/fill-manager.ts';
import { RegistryError } from '../../errors.ts';
import { mustExist, parseManifest } from './manifest.ts';
import { isValidName, parseReference } from './reference.ts';
import type { Reference } from './reference.ts';
import type { DockerRemote } from './remote.ts';
import type { Digest } from '../../storage/digest.ts';
import type { WarmEvents } from '../format.ts';

export interface WarmReport {
  manifests: number;
  blobs: number;
  /** Blobs downloaded now, and their bytes. */
  fetched: number;
  bytesFetched: number;
}

const CONCURRENCY = 3;

/**
 * Pulls an image into a remote repo's cache the way a client would (manifest, index children,
 * config, layers), without sending the bytes anywhere: warm a cache before a rollout, or before
 * switching a repo `offline`. `platform` (`os/arch[/variant]`) limits an index to one platform.
 */
export async function warmImage(remote: DockerRemote, fills: FillManager, image: string, ref: Reference, platform?: string, events?: WarmEvents): Promise<WarmReport> {
  const report: WarmReport = { manifests: 0, blobs: 0, fetched: 0, bytesFetched: 0 };
  const seen = new Set<string>();
  const visit = async (r: Reference): Promise<void> => {
    const m = await remote.manifest(image, r);
    if (seen.has(m.digest)) return;
    seen.add(m.digest);
    report.manifests++;
    const parsed = parseManifest(m.bytes, m.mediaType);
    for (const child of parsed.manifests) {
      if (!platform || platformOf(m.bytes, child.digest.value) === platform) await visit({ kind: 'digest', digest: child.digest });
    }
    const blobs = parsed.blobs.filter(mustExist).filter((b) => !seen.has(b.digest.value));
    for (const b of blobs) seen.add(b.digest.value);
    events?.planned(blobs.length, blobs.reduce((n, b) => n + b.size, 0));
    for (let i = 0; i < blobs.length; i += CONCURRENCY) {
      await Promise.all(blobs.slice(i, i + CONCURRENCY).map((b) => fetchBlob(b.digest, b.size)));
    }
  };
  const fetchBlob = async (digest: Digest, size: number): Promise<void> => {
    report.blobs++;
    const b = await remote.blob(image, digest, false);
    if (b.source !== 'fill') {
      events?.started(digest.value, size, () => size);
      events?.ended(digest.value, 'cached');
      return;
    }
    const fill = b.fill;
    events?.started(digest.value, size, () => fill.written);
    const stored = await fill.done;
    // The repo's link to the blob is written right after the commit; wait for it as well.
    await fills.settled(digest.value);
    report.fetched++;
    report.bytesFetched += stored.size;
    events?.ended(digest.value, 'fetched');
  };
  await visit(ref);
  if (platform && report.blobs === 0) throw new RegistryError('not_found', `no manifest for platform ${platform}`, { code: 'MANIFEST_UNKNOWN' });
  return report;
}

/** `os/arch[/variant]` of an index entry, read from the index itself. */
function platformOf(index: Uint8Array, digest: string): string | undefined {
  const doc = JSON.parse(new TextDecoder().decode(index)) as { manifests?: Array<{ digest?: string; platform?: { os?: string; architecture?: string; variant?: string } }> };
  const p = doc.manifests?.find((d) => d.digest === digest)?.platform;
  if (!p?.os || !p.architecture) return undefined;
  return [p.os, p.architecture, ...(p.variant ? [p.variant] : [])].join('/');
}

/** `image:tag` or `image@digest` as a user types it, checked against the distribution grammar. */
export function parseImageRef(s: string): { image: string; ref: Reference } | null {
  const at = s.indexOf('@');
  const colon = s.lastIndexOf(':');
  const [image, refText] = at > 0 ? [s.slice(0, at), s.slice(at + 1)] : colon > 0 && !s.slice(colon).includes('/') ? [s.slice(0, colon), s.slice(colon + 1)] : [s, 'latest'];
  const ref = parseReference(refText);
  return isValidName(image) && ref.ok ? { image, ref: ref.ref } : null;
}
