import type { Logger } from '../log.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import type { RwLock } from '../util/rwlock.ts';
import type { BuildDeps } from './format.ts';

/** What every format's hosted (local) repo is built from; each format adds its own settings. */
export interface LocalRepoDeps {
  repo: string;
  blobs: BlobStore;
  meta: MetaStore;
  /** Held shared while a blob and the document naming it are written (gc cannot run in between). */
  gcGate: RwLock;
  now: () => number;
  log: Logger;
}

export function localRepoDeps(name: string, d: BuildDeps): LocalRepoDeps {
  return { repo: name, blobs: d.blobs, meta: d.meta, gcGate: d.gcGate, now: d.now, log: d.log };
}
