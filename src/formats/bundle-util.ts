import type { ChunkSource } from '../http/chunk-source.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import { RegistryError } from '../errors.ts';

/**
 * Reads a remote repo's download to its end, so what it fetched is stored (and verified) by the
 * fill. Bundles read it themselves: no client is there to watch.
 */
export async function drain(body: ChunkSource): Promise<void> {
  try {
    while ((await body.next()) !== null);
  } finally {
    await body.close();
  }
}

/**
 * A format's answer for one item, with a remote's download read to its end first (`streamOf` says
 * whether the answer is one): asked again, the answer is the stored, verified copy.
 */
export async function settled<A>(get: () => Promise<A>, streamOf: (a: A) => ChunkSource | null): Promise<A> {
  const first = await get();
  const body = streamOf(first);
  if (!body) return first;
  await drain(body);
  return get();
}

/** What an import into a repo that takes no writes answers. */
export function noImportTarget(repo: string): RegistryError {
  return new RegistryError('unsupported', `${repo} does not take uploads; import into a local repo (or a virtual one with deployTo)`);
}

/** A stored blob in 1 MiB chunks (what an import hands a format's writer). */
export async function* blobChunks(blobs: BlobStore, d: Digest, what: string, missing = `the bundle lacks ${what}`): AsyncGenerator<Uint8Array> {
  const fh = await blobs.open(d);
  if (!fh) throw new RegistryError('not_found', missing);
  try {
    for (let pos = 0; ; ) {
      const c = await fh.read(pos, 1 << 20);
      if (c.byteLength === 0) return;
      pos += c.byteLength;
      yield c;
    }
  } finally {
    await fh.close();
  }
}

/** The same as a web stream, for writers that take one. */
export function blobStream(blobs: BlobStore, d: Digest, what: string): ReadableStream<Uint8Array> {
  const it = blobChunks(blobs, d, what);
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const n = await it.next();
      if (n.done) controller.close();
      else controller.enqueue(n.value);
    },
    cancel: async () => {
      await it.return(undefined);
    },
  });
}
