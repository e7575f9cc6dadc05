import type { CacheStatus } from '../../cache/status.ts';
import type { StoredNegativeCache } from '../../cache/stored-negative.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Checksum } from '../../storage/digest.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { isSnapshotVersion } from '../../util/maven-version.ts';
import type { RwLock } from '../../util/rwlock.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { RemoteDocs } from '../remote-doc.ts';
import { cachedFile } from '../remote-file.ts';
import { METADATA, coordsOf } from './coords.ts';
import { mavenLayout } from './layout.ts';
import type { FileDoc, MutableDoc } from './layout.ts';
import { parseMetadata } from './metadata.ts';
import type { Metadata } from './metadata.ts';
import type { MavenFile, MavenReader, MetadataAnswer } from './reader.ts';

export interface MavenRemoteDeps extends RemoteCacheDeps {
  /** Kept across restarts: read back before the first answer. */
  negative: StoredNegativeCache;
  upstream: UpstreamClient;
  gcGate: RwLock;
  maxMetadataBytes: number;
  maxFileBytes: number;
  /** `strict`: a release file whose upstream publishes no `.sha1` is refused (config `checksumPolicy`). */
  checksumPolicy: 'strict-if-exists' | 'strict';
}

const PREFIXES = ['.meta', 'prefixes.txt'];
const PREFIX_HEADER = /^##\s*repository-prefixes\/2\.0/;

/** Whether a file can change upstream: only a non-unique snapshot file (`a-1.0-SNAPSHOT.jar`). */
function mutableFile(path: string[]): boolean {
  const v = path[path.length - 2] ?? '';
  if (!isSnapshotVersion(v)) return false;
  return coordsOf(path)?.build === undefined;
}

/**
 * A cache of a Maven repository (Maven Central, a mirror, another manager). Release files and
 * timestamped snapshot builds never change: each is fetched once however many builds ask (mvn's
 * `Cache-Control: no-cache` does not send us upstream for them), verified against the upstream's
 * `.sha1` (fetched beside it, so no extra round trip) and never linked on a mismatch; every
 * checksum we serve is computed here over the bytes we hold. A non-unique snapshot file
 * (`a-1.0-SNAPSHOT.jar`) is the newest build the snapshot version's metadata names. Metadata, the
 * prefix file and non-unique files the metadata names no build for follow the kit's document policy
 * (TTL, conditional revalidation, stale while the upstream fails or rate-limits, its Retry-After
 * honoured, a 404 remembered).
 */
export class MavenRemote implements MavenReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly docs: RemoteDocs<MutableDoc>;

  constructor(private readonly d: MavenRemoteDeps) {
    this.name = d.repo;
    this.docs = new RemoteDocs<MutableDoc>(d, 'file');
  }

  async file(path: string[], via?: string): Promise<MavenFile> {
    await this.d.negative.load();
    if (mutableFile(path)) {
      // `a-1.0-SNAPSHOT.jar`: the newest build the upstream's snapshot metadata names (an immutable
      // timestamped file, cached for good); the name itself only where the upstream lists no build.
      const build = await this.newestBuild(path, via);
      if (build) return this.file(build, via);
      const { doc, cache } = await this.mutable(path, via, this.d.maxFileBytes, false);
      return this.blobFile(doc.blob, cache, doc.fetchedAt);
    }
    const what = `/${path.join('/')}`;
    // The upstream's sha1, once the blob writer has verified the bytes against it: ours too (others are computed when asked).
    let verifiedSha1: string | undefined;
    const got = await cachedFile<FileDoc>(this.d, {
      fillKey: `maven:${this.name}:${what}`,
      docKey: mavenLayout.file(this.name, path),
      negKey: what,
      what,
      maxBytes: this.d.maxFileBytes,
      source: async () => {
        // The file and its .sha1 are asked at once (by the one client that fills): the checksum costs no round trip of its own.
        let sum: Promise<Checksum | null> = Promise.resolve(null);
        return {
          fetch: () => {
            sum = this.upstreamSha1(path, via).then((c) => ((verifiedSha1 = c?.hex), c));
            sum.catch(() => {});
            return this.fetch(path, what, via);
          },
          checksumAfter: async () => {
            const c = await sum;
            if (!c && this.d.checksumPolicy === 'strict') throw new RegistryError('upstream', `upstream ${this.d.upstream.host} publishes no .sha1 for ${what}, and checksumPolicy is strict`);
            return c;
          },
        };
      },
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now(), cached: true, ...(verifiedSha1 ? { sums: { sha1: verifiedSha1 } } : {}) }),
    });
    if (got.kind === 'blob') {
      const doc = await this.d.meta.get<FileDoc>(mavenLayout.file(this.name, path));
      return { ...got, sums: { ...doc?.sums, sha256: got.digest.hex }, modified: doc?.storedAt };
    }
    return got;
  }

  /** The timestamped build of a non-unique snapshot file's classifier and extension, from the snapshot version's metadata. */
  private async newestBuild(path: string[], via: string | undefined): Promise<string[] | null> {
    const c = coordsOf(path);
    if (!c) return null;
    const meta = await this.metadata(path.slice(0, -1), via).catch((e: unknown) => {
      if (isRegistryError(e) && e.kind === 'not_found') return null;
      throw e;
    });
    const sv = meta?.parsed().snapshotVersions.find((v) => (v.classifier ?? '') === (c.classifier ?? '') && v.extension === c.extension);
    if (!sv?.value || !/^[0-9A-Za-z._-]+$/.test(sv.value) || sv.value === c.version) return null;
    return [...path.slice(0, -1), `${c.artifactId}-${sv.value}${c.classifier ? `-${c.classifier}` : ''}.${c.extension}`];
  }

  private async blobFile(blob: { digest: string; size: number }, cache: CacheStatus, at: number): Promise<MavenFile> {
    const dg = parseDigest(blob.digest);
    if (!dg.ok || !(await this.d.blobs.stat(dg.digest))) throw new RegistryError('not_found', 'the cached copy is no longer in the store', { code: 'NOT_FOUND' });
    this.d.accessTimes.touch(this.name, dg.digest.value);
    return { kind: 'blob', digest: dg.digest, size: blob.size, cache, sums: { sha256: dg.digest.hex }, modified: at };
  }

  private async fetch(path: string[], what: string, via: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
    const res = await this.d.upstream.request({ method: 'GET', path: path.join('/'), scope: '', via, headers });
    if (res.status !== 200 && res.status !== 304) throw await upstreamFailure(res, this.d.upstream.host, what, 'NOT_FOUND');
    return res;
  }

  /** The upstream's sha1 of a file, when it publishes one (Maven Central does for every file). */
  private async upstreamSha1(path: string[], via: string | undefined): Promise<Checksum | null> {
    const last = path[path.length - 1] ?? '';
    try {
      const res = await this.d.upstream.request({ method: 'GET', path: [...path.slice(0, -1), `${last}.sha1`].join('/'), scope: '', via });
      if (res.status !== 200) {
        await res.body?.cancel();
        return null;
      }
      const hex = new TextDecoder().decode(await readLimited(res.body, 1024, this.d.idleTimeoutMs, 'checksum')).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      if (!/^[0-9a-f]{40}$/.test(hex)) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a .sha1 for ${last} that is not one`);
      return { algorithm: 'sha1', hex };
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'upstream') throw e;
      return null;
    }
  }

  /** A mutable upstream document by the kit's policy; stored as a blob (files streamed, metadata checked first). */
  private mutable(path: string[], via: string | undefined, maxBytes: number, check: ((b: Uint8Array) => void) | false): Promise<{ doc: MutableDoc; cache: CacheStatus }> {
    const key = mavenLayout.mutable(this.name, path);
    const what = `/${path.join('/')}`;
    return this.docs.current(key, what, false, async (prev) => {
      const headers: Record<string, string> = {};
      if (prev?.etag) headers['if-none-match'] = prev.etag;
      if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
      const res = await this.fetch(path, what, via, headers);
      if (res.status === 304 && prev) {
        await res.body?.cancel();
        const doc = await this.d.meta.update<MutableDoc>(key, (c) => ({ ...(c ?? prev), fetchedAt: this.d.now() }));
        return { doc: doc ?? prev, cache: 'REVALIDATED' };
      }
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, what, 'NOT_FOUND');
      const doc = await this.d.gcGate.withShared(async () => {
        let blob;
        if (check) {
          const bytes = await readLimited(res.body, maxBytes, this.d.idleTimeoutMs, `upstream ${what}`).catch((e: unknown) => {
            throw isRegistryError(e) && e.kind === 'too_large' ? new RegistryError('upstream', `upstream ${this.d.upstream.host} sent ${what} larger than ${maxBytes} bytes`) : e;
          });
          check(bytes);
          blob = await this.d.blobs.putBytes(bytes);
        } else {
          if (!res.body) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent no body for ${what}`);
          blob = await this.d.blobs.put(res.body, { maxBytes });
        }
        const next: MutableDoc = { fetchedAt: this.d.now(), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), blob: { digest: blob.digest.value, size: blob.size } };
        await this.d.meta.put(key, next);
        this.d.cached(blob.size);
        return next;
      });
      return { doc, cache: prev ? (prev.blob.digest === doc.blob.digest ? 'REVALIDATED' : 'MISS') : 'MISS' };
    });
  }

  private async bytesOf(doc: MutableDoc): Promise<Uint8Array> {
    const dg = parseDigest(doc.blob.digest);
    const bytes = dg.ok ? await this.d.blobs.readAll(dg.digest, doc.blob.size) : null;
    if (!bytes) throw new RegistryError('not_found', 'the cached copy is no longer in the store', { code: 'NOT_FOUND' });
    return bytes;
  }

  async metadata(dir: string[], via?: string): Promise<MetadataAnswer> {
    await this.d.negative.load();
    const path = [...dir, METADATA];
    const check = (b: Uint8Array): void => {
      try {
        parseMetadata(new TextDecoder().decode(b));
      } catch (e) {
        throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent /${path.join('/')} that is not Maven metadata (${e instanceof Error ? e.message : String(e)})`);
      }
    };
    const { doc, cache } = await this.mutable(path, via, this.d.maxMetadataBytes, check);
    const bytes = await this.bytesOf(doc);
    let parsed: Metadata | undefined;
    return { bytes, etag: doc.blob.digest.slice(7, 47), cache, modified: doc.fetchedAt, parsed: () => (parsed ??= parseMetadata(new TextDecoder().decode(bytes))) };
  }

  async prefixes(via?: string): Promise<string[] | null> {
    let got;
    try {
      got = await this.mutable(PREFIXES, via, 8 << 20, (b) => {
        if (!PREFIX_HEADER.test(new TextDecoder().decode(b.subarray(0, 64)))) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a prefix file without its header`);
      });
    } catch (e) {
      // An upstream without a prefix file (or that cannot be asked now) cannot say what it has.
      if (isRegistryError(e) && (e.kind === 'not_found' || e.kind === 'upstream' || e.kind === 'unavailable' || e.kind === 'rate_limited')) return null;
      throw e;
    }
    return new TextDecoder()
      .decode(await this.bytesOf(got.doc))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/'));
  }
}
