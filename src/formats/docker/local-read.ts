import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { UploadSessions } from '../../storage/uploads.ts';
import type { RwLock } from '../../util/rwlock.ts';
import { layout } from './layout.ts';
import { listImages } from './listing.ts';
import type { ManifestDoc, TagDoc } from './manifest-fetch.ts';
import type { RepoQuota } from './quota.ts';
import type { Reference } from './reference.ts';
import type { DockerReader } from './repo.ts';
import type { BlobResult, ManifestResult } from './results.ts';

export interface LocalManifestDoc extends ManifestDoc {
  subject?: string;
}

export interface LinkDoc {
  size: number;
  linkedAt: number;
}

export interface DockerLocalDeps {
  repo: string;
  blobs: BlobStore;
  meta: MetaStore;
  uploads: UploadSessions;
  /** Shared by every reference-creating write; the online gc takes it exclusively. */
  gcGate: RwLock;
  manifestMaxBytes: number;
  allowDelete: boolean;
  immutableTags: boolean;
  /** A layer link younger than this is a gc root; HEAD refreshes older links (a push may follow). */
  linkGraceMs: number;
  now: () => number;
  /** Storage quota (config `maxBytes`), when set. */
  quota?: RepoQuota;
  /** Upload sessions that may be open at once in this repo (each holds a file and a hash state). */
  maxUploadSessions: number;
}

/** Images a mount without `from` looks through per repo. */
const MAX_DISCOVERY_IMAGES = 10_000;

export const manifestUnknown = (what: string): RegistryError => new RegistryError('not_found', `manifest unknown: ${what}`, { code: 'MANIFEST_UNKNOWN' });
export const blobUnknown = (d: Digest): RegistryError => new RegistryError('not_found', `blob unknown: ${d.value}`, { code: 'BLOB_UNKNOWN' });

/** The read half of a hosted Docker/OCI repository (local.ts adds pushes and deletes). */
export abstract class DockerLocalRead implements DockerReader {
  readonly type = 'local' as const;
  readonly name: string;
  readonly manifestMaxBytes: number;

  constructor(protected readonly d: DockerLocalDeps) {
    this.name = d.repo;
    this.manifestMaxBytes = d.manifestMaxBytes;
  }

  async manifest(image: string, ref: Reference): Promise<ManifestResult> {
    const digest = ref.kind === 'digest' ? ref.digest : await this.tagTarget(image, ref.tag);
    const doc = await this.d.meta.get<LocalManifestDoc>(layout.dockerManifest(this.name, image, digest));
    const bytes = doc ? await this.d.blobs.readAll(digest, this.manifestMaxBytes) : null;
    if (!doc || !bytes) throw manifestUnknown(`${image}@${digest.value}`);
    return { bytes, digest: digest.value, mediaType: doc.mediaType, cache: 'LOCAL' };
  }

  private async tagTarget(image: string, tag: string): Promise<Digest> {
    const doc = await this.d.meta.get<TagDoc>(layout.dockerTag(this.name, image, tag));
    const parsed = doc ? parseDigest(doc.digest) : null;
    if (!parsed?.ok) throw manifestUnknown(`${image}:${tag}`);
    return parsed.digest;
  }

  async blob(image: string, digest: Digest, head: boolean): Promise<BlobResult> {
    const key = layout.dockerLayerLink(this.name, image, digest);
    const link = await this.d.meta.get<LinkDoc>(key);
    const stat = link ? await this.d.blobs.stat(digest) : null;
    if (!link || !stat) throw blobUnknown(digest);
    // A HEAD is how a pushing client decides to skip an upload; keep the link young so gc spares it.
    if (head && this.d.now() - link.linkedAt > this.d.linkGraceMs / 2) {
      await this.d.gcGate.withShared(() => this.link(image, digest, stat.size));
    }
    return { source: 'store', digest, size: stat.size, cache: 'LOCAL' };
  }

  async holds(image: string, digest: Digest): Promise<boolean> {
    return (await this.d.meta.exists(layout.dockerLayerLink(this.name, image, digest))) && (await this.d.blobs.stat(digest)) !== null;
  }

  async holdsAnywhere(digest: Digest): Promise<boolean> {
    if (!(await this.d.blobs.stat(digest))) return false;
    // One link lookup per image; capped so a mount cannot make us walk an enormous repo.
    for (const image of (await listImages(this.d.meta, this.name)).slice(0, MAX_DISCOVERY_IMAGES)) {
      if (await this.d.meta.exists(layout.dockerLayerLink(this.name, image, digest))) return true;
    }
    return false;
  }

  /** The remembered listing itself (MetaStore.listView): the router pages it before its next await. */
  async tags(image: string): Promise<readonly string[]> {
    const tags = await this.d.meta.listView(`${layout.dockerImageDir(this.name, image)}/_tags`);
    if (tags.length > 0) return tags;
    const manifests = await this.d.meta.listView(`${layout.dockerImageDir(this.name, image)}/_manifests`);
    if (manifests.length === 0) {
      throw new RegistryError('not_found', `repository name not known to registry: ${image}`, { code: 'NAME_UNKNOWN' });
    }
    return tags;
  }

  catalog(): Promise<readonly string[]> {
    return listImages(this.d.meta, this.name);
  }

  async referrers(image: string, digest: Digest): Promise<Array<Record<string, unknown>>> {
    const dir = layout.dockerReferrersDir(this.name, image, digest);
    const docs = await Promise.all((await this.d.meta.list(dir)).map((n) => this.d.meta.get<Record<string, unknown>>(`${dir}/${n}`)));
    return docs.filter((x): x is Record<string, unknown> => x !== null);
  }

  // ---- writes ----

  protected async link(image: string, digest: Digest, size: number): Promise<void> {
    await this.d.quota?.admit(digest, size);
    const doc: LinkDoc = { size, linkedAt: this.d.now() };
    await this.d.meta.put(layout.dockerLayerLink(this.name, image, digest), doc);
  }
}
