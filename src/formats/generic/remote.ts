import { joinResumable } from '../../cache/resume.ts';
import { bodyOf } from '../../util/native-body.ts';
import type { Fill, FillSource } from '../../cache/fills.ts';
import { freshness, mayServeStale } from '../../cache/policy.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { announcedSize } from '../../upstream/response.ts';
import { SingleFlight } from '../../upstream/singleflight.ts';
import type { PatternFilter } from '../../util/glob.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { listFolder, notFound, storedFile } from './files.ts';
import type { FileResult, GenericReader, ListPage, ListResult } from './files.ts';
import { genericLayout } from './paths.ts';
import type { FileDoc } from './paths.ts';

export interface GenericRemoteDeps extends RemoteCacheDeps {
  upstream: UpstreamClient;
  /** Whether a path never changes upstream (then it is never revalidated). */
  immutable: (path: string) => boolean;
  filter: PatternFilter;
  maxFileBytes: number;
}

interface UpstreamMeta {
  contentType: string;
  etag: string | null;
  lastModified: string | null;
}

/** A fill that received nothing for this long (or half the idle timeout) takes no new joiners. */
const STALL_MS = 5000;

/** An upstream checksum (Artifactory's X-Checksum-Sha256): the fill must match it too. */
function announcedDigest(res: Response): Digest | undefined {
  const hex = res.headers.get('x-checksum-sha256');
  const p = hex ? parseDigest(`sha256:${hex.trim().toLowerCase()}`) : null;
  return p?.ok ? p.digest : undefined;
}

/**
 * A pull-through cache of any HTTP file tree (release downloads, installers, model files): a file
 * is fetched once, streamed to every client while it is written, verified, and kept. After the TTL
 * it is revalidated with If-None-Match / If-Modified-Since; while the upstream fails the cached
 * copy is served (STALE), up to maxStaleSeconds past the TTL.
 */
export class GenericRemote implements GenericReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly revalidations = new SingleFlight<FileResult>();
  /** The upstream's headers of downloads in flight, by fill key. */
  private readonly inFlight = new Map<string, UpstreamMeta>();

  constructor(private readonly d: GenericRemoteDeps) {
    this.name = d.repo;
  }

  list(path: string[], page?: ListPage): Promise<ListResult> {
    // What the cache holds: upstream servers have no listing API a proxy could rely on.
    return listFolder(this.d.meta, this.name, path, page);
  }

  async get(path: string[], head: boolean, via?: string): Promise<FileResult> {
    if (path.length === 0 || !this.d.filter.allows(path.join('/'))) throw notFound(path);
    // A download of this file that just verified may be writing its document: wait for it.
    const seen = this.d.fills.ticket();
    await this.d.fills.settled(this.keyOf(path));
    const f = await storedFile(this.d.meta, this.d.blobs, this.name, path);
    if (f) {
      this.d.accessTimes.touch(this.name, f.digest.value);
      if (this.d.immutable(path.join('/')) || this.d.offline() || freshness(f.doc.storedAt, this.d.now(), this.d.rule) === 'fresh') {
        return { source: 'store', doc: f.doc, digest: f.digest, cache: 'HIT' };
      }
      return this.revalidations.do(`${head ? 'HEAD' : 'GET'} ${path.join('/')}`, () => this.revalidate(path, f, head, via)).promise;
    }
    if (this.d.offline()) throw new RegistryError('not_found', `/${path.join('/')} is not cached and repository ${this.name} is offline`, { code: 'NOT_FOUND' });
    const negKey = path.join('/');
    if (this.d.negative.has(negKey)) throw new RegistryError('not_found', `no file /${negKey} upstream (cached answer)`, { code: 'NOT_FOUND' });
    try {
      if (!head) return await this.fill(path, via, undefined, 'MISS', seen);
      const res = await this.request('HEAD', path, via);
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'file', 'NOT_FOUND');
      await res.body?.cancel();
      return { source: 'upstream-head', size: announcedSize(res), contentType: res.headers.get('content-type') ?? 'application/octet-stream', cache: 'MISS' };
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'not_found') this.d.negative.add(negKey);
      throw e;
    }
  }

  private keyOf(path: string[]): string {
    return `generic:${this.name}:${path.join('/')}`;
  }

  private request(method: 'GET' | 'HEAD', path: string[], via: string | undefined, headers?: Record<string, string>): Promise<Response> {
    return this.d.upstream.request({ method, path: path.map(encodeURIComponent).join('/'), scope: '', via, ...(headers ? { headers } : {}) });
  }

  /** A conditional request: 304 keeps the copy (REVALIDATED), 200 replaces it, 404 drops it, failure serves it (STALE). */
  private async revalidate(path: string[], f: { doc: FileDoc; digest: Digest }, head: boolean, via: string | undefined): Promise<FileResult> {
    const conditional: Record<string, string> = {};
    if (f.doc.upstreamEtag) conditional['if-none-match'] = f.doc.upstreamEtag;
    if (f.doc.upstreamLastModified) conditional['if-modified-since'] = f.doc.upstreamLastModified;
    const stale = (e: unknown): FileResult => {
      if (!mayServeStale(f.doc.storedAt, this.d.now(), this.d.rule)) throw e;
      this.d.log.warn('serving stale file', { repo: this.name, path: path.join('/'), error: String(e) });
      return { source: 'store', doc: f.doc, digest: f.digest, cache: 'STALE' };
    };
    let res: Response;
    try {
      res = await this.request(head ? 'HEAD' : 'GET', path, via, conditional);
    } catch (e) {
      return stale(e);
    }
    if (res.status === 304) {
      await res.body?.cancel();
      await this.d.meta.put(genericLayout.file(this.name, path), { ...f.doc, storedAt: this.d.now() });
      return { source: 'store', doc: f.doc, digest: f.digest, cache: 'REVALIDATED' };
    }
    if (res.status === 404 || res.status === 410) {
      // The upstream is the authority on its paths: a removed file is gone here too.
      await res.body?.cancel();
      await this.d.meta.delete(genericLayout.file(this.name, path));
      throw notFound(path);
    }
    if (res.status !== 200) return stale(await upstreamFailure(res, this.d.upstream.host, 'file', 'NOT_FOUND'));
    if (head) {
      await res.body?.cancel();
      return { source: 'upstream-head', size: announcedSize(res), contentType: res.headers.get('content-type') ?? 'application/octet-stream', cache: 'MISS' };
    }
    return this.fill(path, via, res, 'MISS');
  }

  /**
   * The one download of a file, shared by every client that asks meanwhile (keyed by repo and
   * path); `first` is an upstream answer already in hand (a revalidation that got 200).
   */
  private async fill(path: string[], via: string | undefined, first: Response | undefined, cache: CacheStatus, seen?: number): Promise<FileResult> {
    const key = this.keyOf(path);
    let pending = first;
    let meta: UpstreamMeta = { contentType: 'application/octet-stream', etag: null, lastModified: null };
    const start = async (): Promise<FillSource> => {
      const res = pending ?? (await this.request('GET', path, via));
      pending = undefined;
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'file', 'NOT_FOUND');
      if (!res.body) throw new RegistryError('upstream', 'upstream sent no body');
      meta = { contentType: res.headers.get('content-type') ?? 'application/octet-stream', etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
      // Clients that join this download answer with the upstream's type too.
      this.inFlight.set(key, meta);
      const digest = announcedDigest(res);
      return { body: idleTimeoutBody(bodyOf(res) ?? res.body, this.d.idleTimeoutMs, `file ${path.join('/')}`), size: announcedSize(res), maxBytes: this.d.maxFileBytes, ...(digest ? { digest } : {}) };
    };
    const stored = async (b: { digest: Digest; size: number }): Promise<void> => {
      const doc: FileDoc = {
        digest: b.digest.value,
        size: b.size,
        contentType: meta.contentType,
        storedAt: this.d.now(),
        ...(meta.etag ? { upstreamEtag: meta.etag } : {}),
        ...(meta.lastModified ? { upstreamLastModified: meta.lastModified } : {}),
      };
      await this.d.meta.put(genericLayout.file(this.name, path), doc);
      this.inFlight.delete(key);
      this.d.accessTimes.touch(this.name, b.digest.value);
      this.d.cached(b.size);
    };
    const join = (): { fill: Fill; coalesced: boolean } => this.d.fills.join(key, undefined, start, this.name, stored, Math.min(STALL_MS, this.d.idleTimeoutMs / 2), seen);
    const j = await joinResumable(() => {
      const joined = join();
      void joined.fill.done.catch(() => this.inFlight.delete(key));
      // An answer in hand that a download already under way makes unnecessary.
      if (joined.coalesced && pending) void pending.body?.cancel();
      pending = undefined;
      return joined;
    });
    const upstream = this.inFlight.get(key) ?? meta;
    return { source: 'stream', size: j.size, contentType: upstream.contentType, lastModified: upstream.lastModified ?? undefined, open: j.open, cache: j.coalesced ? (j.complete ? 'HIT' : 'COALESCED') : cache };
  }
}
