import { joinResumable } from '../cache/resume.ts';
import type { CacheStatus } from '../cache/status.ts';
import type { ChunkSource } from '../http/chunk-source.ts';
import { RegistryError, isRegistryError } from '../errors.ts';
import { parseDigest } from '../storage/digest.ts';
import type { Checksum, Digest } from '../storage/digest.ts';
import { fillSourceOf } from '../upstream/response.ts';
import type { RemoteCacheDeps } from './remote-cache.ts';

/** A fill that received nothing for this long (or half the idle timeout) takes no new joiners. */
export const STALL_MS = 5000;

/** A cached file's answer: in the store (HIT), or a download in progress (MISS, COALESCED). */
export type CachedFile =
  | { kind: 'blob'; digest: Digest; size: number; cache: CacheStatus; modified?: number }
  | { kind: 'stream'; size: number | undefined; open: (start: number, end: number | undefined) => ChunkSource; cache: CacheStatus };

/** The document a cached file is linked by: at least its blob's digest and size. */
export interface FileDocBase {
  digest: string;
  size: number;
  /** When it was stored (its Last-Modified, for If-Range). */
  storedAt?: number;
}

export interface CachedFileSpec<D extends FileDocBase> {
  /** The fill's key (repo and file: one download per file however many ask) and the document's key. */
  fillKey: string;
  docKey: string;
  /** What the negative cache remembers an upstream 404 under, and how errors name the file. */
  negKey: string;
  what: string;
  maxBytes: number;
  /**
   * Asked on a miss only (a HIT never looks further): the upstream request, answered 200 (anything
   * else thrown as the format's failure), and the digest the bytes must have when an upstream index
   * says so up front, or (`checksumAfter`) a checksum the filler learns beside its own request (Maven's
   * `.sha1` sibling, asked at the same time as the file, by the one client that fills).
   */
  source: () => Promise<{ fetch: () => Promise<Response>; expected?: Digest | undefined; checksum?: Checksum | undefined; checksumAfter?: () => Promise<Checksum | null> }>;
  /** The document that links the stored blob. */
  doc: (b: { digest: Digest; size: number }) => D;
  /** Throws unless the stored bytes are acceptable (then nothing is linked: the next request fetches again). */
  accept?: (b: { digest: Digest; size: number }) => Promise<void>;
}

/**
 * The kit's remote fetch of one immutable file (issue 23): a HIT when its document and blob are
 * in the store; else one fill-backed download (streamed to every client while it is stored,
 * verified, its access recorded and the evictor told), joined by concurrent clients (COALESCED),
 * or by one whose store check raced a download that just settled. Offline repos and remembered
 * upstream 404s answer not found without asking. Go's module files and Helm's chart archives use it.
 */
export async function cachedFile<D extends FileDocBase>(d: RemoteCacheDeps, spec: CachedFileSpec<D>): Promise<CachedFile> {
  const seen = d.fills.ticket();
  await d.fills.settled(spec.fillKey);
  const doc = await d.meta.get<D>(spec.docKey);
  const have = doc ? parseDigest(String(doc.digest)) : null;
  if (doc && have?.ok && (await d.blobs.stat(have.digest))) {
    d.accessTimes.touch(d.repo, have.digest.value);
    return { kind: 'blob', digest: have.digest, size: doc.size, cache: 'HIT', ...(typeof doc.storedAt === 'number' ? { modified: doc.storedAt } : {}) };
  }
  if (d.offline()) throw new RegistryError('not_found', `not found: ${spec.what} (not cached; repository ${d.repo} is offline)`, { code: 'NOT_FOUND' });
  if (d.negative.has(spec.negKey)) throw new RegistryError('not_found', `not found: ${spec.what} (cached upstream answer)`, { code: 'NOT_FOUND' });
  const stored = async (b: { digest: Digest; size: number }): Promise<void> => {
    await spec.accept?.(b);
    await d.meta.put(spec.docKey, spec.doc(b));
    d.accessTimes.touch(d.repo, b.digest.value);
    d.cached(b.size);
  };
  // Outside the negative cache: "not in the index" is the index's answer, asked again as it changes.
  const src = await spec.source();
  try {
    const start = async () => {
      const res = await src.fetch();
      const checksum = src.checksum ?? (await src.checksumAfter?.().catch(async (e: unknown) => {
        await res.body?.cancel();
        throw e;
      }));
      return { ...fillSourceOf(res, d.idleTimeoutMs, spec.what, spec.maxBytes), ...(checksum ? { checksum } : {}) };
    };
    const j = await joinResumable(() => d.fills.join(spec.fillKey, src.expected, start, d.repo, stored, Math.min(STALL_MS, d.idleTimeoutMs / 2), seen));
    return { kind: 'stream', size: j.size, open: j.open, cache: !j.coalesced ? 'MISS' : j.complete ? 'HIT' : 'COALESCED' };
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'not_found') d.negative.add(spec.negKey);
    throw e;
  }
}
