import type { DownloadGuard } from '../../http/download-guard.ts';
import type { ServerMetrics } from '../../metrics/registry.ts';
import type { Action } from '../../auth/access.ts';
import type { Logger } from '../../log.ts';
import type { RuntimeCaps } from '../../http/runtime.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { Digest } from '../../storage/digest.ts';
import type { DockerReader, DockerRepo } from './repo.ts';

/** Why a request may not go on; rendered as 401 (with the challenge) or 403. */
export interface Refusal {
  /** 404: the caller may not read the repo at all, and is told what an unknown name gets. */
  status: 401 | 403 | 404;
  message: string;
  challenge?: string;
}

export interface DockerRouterDeps {
  repo: DockerRepo;
  blobs: BlobStore;
  runtime: RuntimeCaps;
  metrics: ServerMetrics;
  log: Logger;
  /** The path the client used up to and including `/v2`, for Location and Link headers. */
  base: string;
  /** null = allowed. `image` undefined = the repo as a whole (the /v2/ check, the catalog). */
  authorize(image: string | undefined, action: Action): Promise<Refusal | null>;
  /** A mount's `from` (as the client named it) → the repo and image, when the caller may read it. */
  mountSource(from: string): Promise<{ repo: DockerReader; image: string } | null>;
  /** A mount without `from`: whether a repo the caller may read holds the blob (content discovery). */
  discoverBlob(digest: Digest): Promise<boolean>;
  /** Request bodies that stall this long fail (pushes). */
  bodyIdleMs: number;
  /** Every streamed blob body is counted for `client` and cut off when never read. */
  downloads: DownloadGuard;
  client: string;
  /** The adapter's env, for the runtime's native file send. */
  env?: unknown;
  /** Counts blob bytes served (serveBlob calls it, as for every format). */
  served?: (bytes: number, cache: string) => void;
  /** Tells the webhooks: a manifest pushed, pulled (GET) or deleted in `repo`. */
  notify(action: 'push' | 'pull' | 'delete', repo: string, image: string, target: { mediaType?: string; size?: number; digest?: string; tag?: string }): void;
}

