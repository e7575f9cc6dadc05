import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { layout } from './layout.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { SingleFlight } from '../../upstream/singleflight.ts';
import { looseDescriptors } from './manifest.ts';
import { MANIFEST_ACCEPT, sniffManifestMediaType } from './media.ts';

/** Stored per tag: which manifest it pointed at when we last asked. */
export interface TagDoc {
  digest: string;
  mediaType: string;
  size: number;
  fetchedAt: number;
}

/** Stored per manifest: this repo/image references it, and how to serve it. */
export interface ManifestDoc {
  mediaType: string;
  size: number;
  fetchedAt: number;
}

export interface FetchedManifest {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  shared: boolean;
}

interface Deps {
  repo: string;
  /** Told the size each fetched manifest declares for its blobs (caps their fills). */
  declared?: (digest: string, size: number) => void;
  upstream: UpstreamClient;
  blobs: BlobStore;
  meta: MetaStore;
  manifestMaxBytes: number;
  idleTimeoutMs: number;
  now: () => number;
}

/** Reads a tag doc's digest back from disk, where it is data we must not trust blindly. */
export function tagDigest(doc: TagDoc): Digest | null {
  const d = parseDigest(String(doc.digest));
  return d.ok ? d.digest : null;
}

/**
 * GETs a manifest upstream (one request per name@reference however many clients ask), checks its
 * digest over the exact bytes, and stores bytes, manifest link and tag doc. Nothing is stored when
 * the digest does not match what was asked for or what the upstream announced.
 */
export class ManifestFetcher {
  private readonly flight = new SingleFlight<Omit<FetchedManifest, 'shared'>>();

  constructor(private readonly d: Deps) {}

  async fetch(name: string, reference: string, tag: string | undefined, via?: string): Promise<FetchedManifest> {
    const { promise, shared } = this.flight.do(`${name}@${reference}`, () => this.fetchOnce(name, reference, tag, via));
    return { ...(await promise), shared };
  }

  private async fetchOnce(name: string, reference: string, tag: string | undefined, via: string | undefined): Promise<Omit<FetchedManifest, 'shared'>> {
    const host = this.d.upstream.host;
    const res = await this.d.upstream.request({
      method: 'GET',
      path: `/v2/${name}/manifests/${reference}`,
      accept: MANIFEST_ACCEPT,
      scope: `repository:${name}:pull`,
      via,
    });
    if (res.status !== 200) throw await upstreamFailure(res, host, 'manifest', 'MANIFEST_UNKNOWN');
    const bytes = await readLimited(res.body, this.d.manifestMaxBytes, this.d.idleTimeoutMs, 'manifest').catch((e: unknown) => {
      // Too large is the upstream's failure here, not a request body of the client's (413).
      if (isRegistryError(e) && e.kind === 'too_large') {
        throw new RegistryError('upstream', `upstream ${host} sent a manifest larger than manifestMaxBytes (${this.d.manifestMaxBytes} bytes)`, { cause: e });
      }
      throw e;
    });
    const wanted = tag === undefined ? parseDigest(reference) : null;
    const algorithm = wanted?.ok ? wanted.digest.algorithm : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (wanted?.ok && wanted.digest.value !== digest.value) {
      throw new RegistryError('upstream', `upstream ${host} sent a manifest whose digest is not ${reference}`, {
        detail: { expected: reference, actual: digest.value },
      });
    }
    const announced = res.headers.get('docker-content-digest');
    const announcedDigest = announced ? parseDigest(announced) : null;
    if (announcedDigest?.ok) {
      // Hash again only when the upstream announced another algorithm than the one we used.
      const actual = announcedDigest.digest.algorithm === digest.algorithm ? digest : digestOf(bytes, announcedDigest.digest.algorithm);
      if (actual.value !== announcedDigest.digest.value) {
        throw new RegistryError('upstream', `upstream ${host} sent manifest bytes that do not match its Docker-Content-Digest`, {
          detail: { announced, actual: actual.value },
        });
      }
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
    if (!looksLikeManifest(bytes) || contentType.startsWith('text/')) {
      // A captive portal, a CDN error page, a misconfigured proxy: never cache it as a manifest.
      throw new RegistryError('upstream', `upstream ${host} answered ${contentType || 'something'} that is not a manifest`, {
        detail: { contentType },
      });
    }
    const mediaType = contentType && contentType !== 'application/json' && contentType !== 'application/octet-stream'
      ? contentType
      : sniffManifestMediaType(bytes);
    if (this.d.declared) for (const x of looseDescriptors(bytes)) if (x.size !== undefined) this.d.declared(x.digest, x.size);
    const now = this.d.now();
    await this.d.blobs.putBytes(bytes, { expectedDigest: digest });
    const doc: ManifestDoc = { mediaType, size: bytes.byteLength, fetchedAt: now };
    await this.d.meta.put(layout.dockerManifest(this.d.repo, name, digest), doc);
    if (tag !== undefined) {
      const tagDoc: TagDoc = { digest: digest.value, mediaType, size: bytes.byteLength, fetchedAt: now };
      await this.d.meta.put(layout.dockerTag(this.d.repo, name, tag), tagDoc);
    }
    return { bytes, digest: digest.value, mediaType };
  }
}

/** A JSON object with the shape of any manifest format (schema1 included); nothing else is cached. */
function looksLikeManifest(bytes: Uint8Array): boolean {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'schemaVersion' in doc;
  } catch {
    return false;
  }
}

