import type { StoredBlob } from '../../storage/blob-store.ts';
import type { Digest } from '../../storage/digest.ts';
import type { Reference } from './reference.ts';
import type { BlobResult, ManifestResult } from './results.ts';
import type { UploadStatus } from '../../storage/uploads.ts';

/**
 * The role interfaces the router talks to. Every Docker repo reads; only local repos (and virtual
 * repos with a deployTo) write. Methods take plain values and throw RegistryError; no HTTP here.
 */
export interface DockerReader {
  readonly name: string;
  readonly type: 'local' | 'remote' | 'virtual';
  /** `via`: the client request's Via chain, forwarded upstream (loop detection across instances). */
  manifest(image: string, ref: Reference, via?: string): Promise<ManifestResult>;
  blob(image: string, digest: Digest, head: boolean, via?: string): Promise<BlobResult>;
  /** All tags of an image, sorted. */
  tags(image: string, via?: string): Promise<readonly string[]>;
  /** All image names, sorted. */
  catalog(): Promise<readonly string[]>;
  /** Descriptors of manifests whose subject is `digest`. */
  referrers(image: string, digest: Digest, via?: string): Promise<Array<Record<string, unknown>>>;
  /** Whether this repo holds the blob for the image without asking anyone (a mount source). */
  holds(image: string, digest: Digest): Promise<boolean>;
  /** Whether any image of this repo holds the blob (a mount without `from`: content discovery). */
  holdsAnywhere(digest: Digest): Promise<boolean>;
}

export interface PushedManifest {
  digest: Digest;
  mediaType: string;
  subject?: Digest;
}

export interface DockerWriter {
  /** The local repo that stores what is written (a virtual repo's deployTo). */
  readonly name: string;
  startUpload(image: string): Promise<string>;
  uploadStatus(image: string, id: string): Promise<UploadStatus>;
  appendUpload(image: string, id: string, body: AsyncIterable<Uint8Array>, start?: number): Promise<UploadStatus>;
  finishUpload(image: string, id: string, digest: Digest): Promise<StoredBlob>;
  cancelUpload(image: string, id: string): Promise<void>;
  /** One-request push (POST ?digest= with the body). */
  putBlob(image: string, digest: Digest, body: AsyncIterable<Uint8Array>): Promise<StoredBlob>;
  /** Links a blob held elsewhere in this server into the image; false when it is not in the store. */
  mount(image: string, digest: Digest): Promise<boolean>;
  /** `tags`: a push by digest that also points these tags at it (the spec's `?tag=` parameters). */
  putManifest(image: string, ref: Reference, bytes: Uint8Array, contentType: string | null, tags?: readonly string[]): Promise<PushedManifest>;
  deleteManifest(image: string, digest: Digest): Promise<void>;
  deleteTag(image: string, tag: string): Promise<void>;
  deleteBlob(image: string, digest: Digest): Promise<void>;
  readonly manifestMaxBytes: number;
}

export type DockerRepo = DockerReader & { writer?: DockerWriter };
