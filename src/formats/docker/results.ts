import type { ChunkSource } from '../../http/chunk-source.ts';
import type { Fill } from '../../cache/fills.ts';
import type { Digest } from '../../storage/digest.ts';

/** What the repo roles answer; the router turns them into responses. */

import type { CacheStatus } from '../../cache/status.ts';

export type { CacheStatus };

export interface ManifestResult {
  bytes: Uint8Array;
  digest: string;
  mediaType: string;
  cache: CacheStatus;
}

export type BlobResult =
  | { source: 'store'; digest: Digest; size: number; cache: CacheStatus }
  | {
      source: 'fill';
      digest: Digest;
      fill: Fill;
      /** Bytes [start, end) as they arrive, resuming with a fresh fill once if this one fails. */
      open: (start: number, end: number | undefined) => ChunkSource;
      size: number | undefined;
      cache: CacheStatus;
    }
  | { source: 'upstream-head'; digest: Digest; size: number | undefined; cache: CacheStatus };
