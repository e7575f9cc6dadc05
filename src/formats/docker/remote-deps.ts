import type { CacheRule, NegativeCache } from '../../cache/policy.ts';
import type { FillManager } from '../../cache/fill-manager.ts';
import type { Logger } from '../../log.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import type { ImageFilter } from './image-filter.ts';
import type { AccessLog } from '../../cache/access-log.ts';

/** What a Docker remote repo is built from (boot creates each piece once). */
export interface DockerRemoteDeps {
  repo: string;
  upstream: UpstreamClient;
  blobs: BlobStore;
  meta: MetaStore;
  fills: FillManager;
  negative: NegativeCache;
  rule: CacheRule;
  manifestMaxBytes: number;
  /** No blob fill writes more than this (a chunked or lying upstream). */
  blobMaxBytes: number;
  idleTimeoutMs: number;
  /** Docker Hub's implicit `library/` for one-segment names. */
  libraryPrefix: boolean;
  /** Cached content only: a miss is "not found" and nothing is revalidated. */
  offline: boolean;
  /** The images this repo may serve (include/exclude patterns). */
  filter: ImageFilter;
  /** Records reads for LRU eviction (batched in memory). */
  accessLog: AccessLog;
  /** Told about every blob the cache gained, so the evictor can act before the next scan. */
  cached: (bytes: number) => void;
  now: () => number;
  log: Logger;
}
