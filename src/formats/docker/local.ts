import { RegistryError, isRegistryError } from '../../errors.ts';
import type { StoredBlob } from '../../storage/blob-store.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { UploadStatus } from '../../storage/uploads.ts';
import { layout } from './layout.ts';
import { DockerLocalRead, blobUnknown, manifestUnknown } from './local-read.ts';
import type { LocalManifestDoc } from './local-read.ts';
import type { TagDoc } from './manifest-fetch.ts';
import { mustExist, parseManifest, referrerDescriptor } from './manifest.ts';
import type { Reference } from './reference.ts';
import type { DockerWriter, PushedManifest } from './repo.ts';

export type { DockerLocalDeps, LinkDoc, LocalManifestDoc } from './local-read.ts';

/** A hosted Docker/OCI repository: the push and content-management half of the distribution spec. */
export class DockerLocal extends DockerLocalRead implements DockerWriter {
  /** A local repo is its own writer (DockerRepo's optional write role). */
  readonly writer: DockerWriter = this;

  async startUpload(image: string): Promise<string> {
    const open = this.d.uploads.openIn(this.name);
    if (open >= this.d.maxUploadSessions) {
      throw new RegistryError('rate_limited', `repository ${this.name} has ${open} upload sessions open; finish or cancel some first`, { retryAfter: 10 });
    }
    return this.d.uploads.start(this.name, image);
  }

  uploadStatus(image: string, id: string): Promise<UploadStatus> {
    return this.d.uploads.status(id, this.name, image);
  }

  async appendUpload(image: string, id: string, body: AsyncIterable<Uint8Array>, start?: number): Promise<UploadStatus> {
    const quota = this.d.quota;
    if (!quota) return this.d.uploads.append(id, this.name, image, body, start);
    // A session may grow only to what the quota could still accept: a chunk past it is taken back at once.
    const limit = await quota.sessionLimit();
    return this.d.uploads.append(id, this.name, image, body, start, limit).catch((e: unknown) => {
      if (isRegistryError(e) && e.kind === 'too_large') throw quota.exceeded(limit + 1);
      throw e;
    });
  }

  async finishUpload(image: string, id: string, digest: Digest): Promise<StoredBlob> {
    // Admitted before the bytes become a blob: a refused upload is removed, never left for gc.
    const s = await this.d.uploads.status(id, this.name, image);
    return this.d.gcGate.withShared(async () => {
      await this.admitOrDrop(digest, s.size, () => this.d.uploads.cancel(id, this.name, image));
      const b = await this.d.uploads.finish(id, this.name, image, digest).catch((e: unknown) => {
        this.d.quota?.invalidate();
        throw e;
      });
      await this.link(image, digest, b.size);
      return b;
    });
  }

  cancelUpload(image: string, id: string): Promise<void> {
    return this.d.uploads.cancel(id, this.name, image);
  }

  async putBlob(image: string, digest: Digest, body: AsyncIterable<Uint8Array>): Promise<StoredBlob> {
    const room = this.d.quota ? await this.d.quota.remaining() : undefined;
    // The body streams into a temp file outside the gc lock: a slow client never holds up gc, nor
    // (through a waiting gc) every other push. Only the commit and the link take the lock.
    const w = await this.d.blobs.startWrite({ expectedDigest: digest, ...(room !== undefined && !(await this.holdsHere(digest)) ? { maxBytes: room } : {}) });
    try {
      for await (const chunk of body) await w.write(chunk);
      w.verify();
    } catch (e) {
      await w.abort();
      if (isRegistryError(e) && e.kind === 'too_large' && this.d.quota) throw this.d.quota.exceeded(w.bytesWritten);
      if (isRegistryError(e) && e.kind === 'insufficient_storage') throw new RegistryError(e.kind, e.message, { code: 'BLOB_UPLOAD_INVALID', cause: e });
      throw e;
    }
    return this.d.gcGate.withShared(async () => {
      await this.admitOrDrop(digest, w.bytesWritten, () => w.abort());
      const stored = await w.finish();
      await this.link(image, digest, stored.size);
      return stored;
    });
  }

  /** Whether some image of this repo already links the blob (so the quota does not count it again). */
  private async holdsHere(digest: Digest): Promise<boolean> {
    return this.d.quota ? this.d.quota.holds(digest) : false;
  }

  /** Quota admission; on refusal `drop` removes the bytes right away. */
  private async admitOrDrop(digest: Digest, size: number, drop: () => Promise<unknown>): Promise<void> {
    try {
      await this.d.quota?.admit(digest, size);
    } catch (e) {
      await drop().catch(() => {});
      throw e;
    }
  }

  mount(image: string, digest: Digest): Promise<boolean> {
    return this.d.gcGate.withShared(async () => {
      const stat = await this.d.blobs.stat(digest);
      if (!stat) return false;
      await this.link(image, digest, stat.size);
      return true;
    });
  }


  /** Something was deleted behind the repo's back (gc, retention): count its usage again. */
  usageChanged(): void {
    this.d.quota?.invalidate();
  }

  async putManifest(image: string, ref: Reference, bytes: Uint8Array, contentType: string | null, extraTags: readonly string[] = []): Promise<PushedManifest> {
    const m = parseManifest(bytes, contentType);
    const digest = digestOf(bytes, ref.kind === 'digest' ? ref.digest.algorithm : 'sha256');
    if (ref.kind === 'digest' && digest.value !== ref.digest.value) {
      throw new RegistryError('invalid', `manifest digest ${digest.value} does not match ${ref.digest.value}`, { code: 'DIGEST_INVALID' });
    }
    return this.d.gcGate.withShared(async () => {
      for (const b of m.blobs) {
        if (mustExist(b) && !(await this.holds(image, b.digest))) {
          throw new RegistryError('not_found', `blob unknown to registry: ${b.digest.value}`, { code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: b.digest.value } });
        }
      }
      for (const c of m.manifests) {
        if (!(await this.d.meta.exists(layout.dockerManifest(this.name, image, c.digest)))) {
          throw new RegistryError('not_found', `manifest unknown to registry: ${c.digest.value}`, { code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: c.digest.value } });
        }
      }
      const tags = ref.kind === 'tag' ? [ref.tag] : extraTags;
      for (const t of tags) await this.checkTagWritable(image, t, digest);
      await this.d.quota?.admit(digest, bytes.byteLength);
      if (!(await this.d.blobs.stat(digest))) await this.d.blobs.putBytes(bytes, { expectedDigest: digest });
      const now = this.d.now();
      const doc: LocalManifestDoc = { mediaType: m.mediaType, size: bytes.byteLength, fetchedAt: now, ...(m.subject ? { subject: m.subject.digest.value } : {}) };
      await this.d.meta.put(layout.dockerManifest(this.name, image, digest), doc);
      if (m.subject) {
        await this.d.meta.put(layout.dockerReferrer(this.name, image, m.subject.digest, digest), referrerDescriptor(m, digest, bytes.byteLength));
      }
      for (const t of tags) {
        const tag: TagDoc = { digest: digest.value, mediaType: m.mediaType, size: bytes.byteLength, fetchedAt: now };
        await this.d.meta.put(layout.dockerTag(this.name, image, t), tag);
      }
      return { digest, mediaType: m.mediaType, ...(m.subject ? { subject: m.subject.digest } : {}) };
    });
  }

  private async checkTagWritable(image: string, tag: string, digest: Digest): Promise<void> {
    if (!this.d.immutableTags) return;
    const existing = await this.d.meta.get<TagDoc>(layout.dockerTag(this.name, image, tag));
    if (existing && existing.digest !== digest.value) {
      throw new RegistryError('conflict', `tag ${image}:${tag} is immutable in repository ${this.name}`, { code: 'TAG_INVALID' });
    }
  }

  private assertDeletable(): void {
    if (!this.d.allowDelete) throw new RegistryError('unsupported', `deletes are disabled in repository ${this.name}`, { code: 'UNSUPPORTED' });
  }

  async deleteManifest(image: string, digest: Digest): Promise<void> {
    this.assertDeletable();
    const doc = await this.d.meta.get<LocalManifestDoc>(layout.dockerManifest(this.name, image, digest));
    if (!doc) throw manifestUnknown(`${image}@${digest.value}`);
    const tagged = await this.tagsOf(image, digest);
    if (tagged.length > 0 && this.d.immutableTags) {
      throw new RegistryError('conflict', `manifest is tagged (${tagged.join(', ')}) and tags are immutable`, { code: 'DENIED' });
    }
    await this.removeManifest(image, digest, doc, tagged);
  }

  /** The tags of an image that point at a digest. */
  private async tagsOf(image: string, digest: Digest): Promise<string[]> {
    const tagDir = `${layout.dockerImageDir(this.name, image)}/_tags`;
    const tagged: string[] = [];
    for (const t of await this.d.meta.list(tagDir)) {
      if ((await this.d.meta.get<TagDoc>(`${tagDir}/${t}`))?.digest === digest.value) tagged.push(t);
    }
    return tagged;
  }

  private async removeManifest(image: string, digest: Digest, doc: LocalManifestDoc, tagged: string[]): Promise<void> {
    this.d.quota?.invalidate();
    // Tags go first: a crash midway leaves an untagged manifest, never a tag pointing at nothing.
    for (const t of tagged) await this.d.meta.delete(layout.dockerTag(this.name, image, t));
    const subject = doc.subject ? parseDigest(doc.subject) : null;
    if (subject?.ok) await this.d.meta.delete(layout.dockerReferrer(this.name, image, subject.digest, digest));
    await this.d.meta.delete(layout.dockerManifest(this.name, image, digest));
  }

  /**
   * Retention's deletes, which the repo's `delete: false` (a rule for clients) does not stop. Each
   * checks again right before it acts: a tag re-pushed meanwhile, or a manifest a tag points at
   * again, is left alone. Returns whether it deleted.
   */
  readonly retention = {
    removeTag: async (image: string, tag: string, digest: string): Promise<boolean> => {
      const key = layout.dockerTag(this.name, image, tag);
      if ((await this.d.meta.get<TagDoc>(key))?.digest !== digest) return false;
      return this.d.meta.delete(key);
    },
    removeUntagged: async (image: string, digest: Digest): Promise<boolean> => {
      const doc = await this.d.meta.get<LocalManifestDoc>(layout.dockerManifest(this.name, image, digest));
      if (!doc || (await this.tagsOf(image, digest)).length > 0) return false;
      await this.removeManifest(image, digest, doc, []);
      return true;
    },
  };

  async deleteTag(image: string, tag: string): Promise<void> {
    this.assertDeletable();
    if (this.d.immutableTags) throw new RegistryError('conflict', `tag ${image}:${tag} is immutable`, { code: 'DENIED' });
    if (!(await this.d.meta.delete(layout.dockerTag(this.name, image, tag)))) throw manifestUnknown(`${image}:${tag}`);
  }

  async deleteBlob(image: string, digest: Digest): Promise<void> {
    this.assertDeletable();
    this.d.quota?.invalidate();
    if (!(await this.d.meta.delete(layout.dockerLayerLink(this.name, image, digest)))) throw blobUnknown(digest);
  }
}
