import { Lru } from '../../util/lru.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import type { RwLock } from '../../util/rwlock.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { RemoteDocs } from '../remote-doc.ts';
import { cachedFile } from '../remote-file.ts';
import type { CachedFile } from '../remote-file.ts';
import { npmLayout } from './layout.ts';
import type { BlobRef, RemoteMetaDoc, TarballDoc, UpstreamFile } from './layout.ts';
import { tarballFile, tarballPath } from './names.ts';
import { BASE_MARK, abbreviate, asPackument, checksumOf, distOf, encodeJson, withTarball } from './packument.ts';
import type { Packument, PackumentAnswer } from './packument.ts';
import { notFound } from './reader.ts';
import type { NpmReader, PackumentOptions, SearchHit } from './reader.ts';

export interface NpmRemoteDeps extends RemoteCacheDeps {
  upstream: UpstreamClient;
  /** The registry's base URL: relative tarball URLs resolve against it. */
  baseUrl: string;
  gcGate: RwLock;
  maxPackumentBytes: number;
  maxTarballBytes: number;
}

/** The path npm asks a package at: the scope's `/` encoded, as the public registry expects. */
export const packumentPath = (name: string): string => `/${name.replace('/', '%2f')}`;

/**
 * A cache of an npm registry. Each packument is fetched once per TTL (revalidated with ETag /
 * Last-Modified, served stale while the upstream fails), parsed once per change, and stored as
 * three blobs: the full and abbreviated documents with tarball URLs pointing here (rendered once,
 * sent as bytes) and where each tarball is upstream with its checksum. Tarballs are fetched on
 * first download (one request however many clients ask, streamed while written), verified against
 * the packument's sha512 integrity (sha1 for old packages) before anyone gets the last byte.
 */
export class NpmRemote implements NpmReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly docs: RemoteDocs<RemoteMetaDoc>;
  private readonly files = new Lru<Record<string, UpstreamFile>>(5000, 64 << 20, (f) => Object.keys(f).length * 200);

  constructor(private readonly d: NpmRemoteDeps) {
    this.name = d.repo;
    this.docs = new RemoteDocs<RemoteMetaDoc>(d, 'package');
  }

  get upstream(): UpstreamClient {
    return this.d.upstream;
  }

  async packument(name: string, opts: PackumentOptions): Promise<PackumentAnswer> {
    if (opts.stored) {
      const doc = await this.d.meta.get<RemoteMetaDoc>(npmLayout.meta(this.name, name));
      if (!doc) throw notFound(`package ${name} (not cached in ${this.name})`);
      return this.answerOf(doc, 'HIT');
    }
    const { doc, cache } = await this.current(name, opts.via, opts.fresh === true);
    return this.answerOf(doc, cache);
  }

  async names(max: number): Promise<string[]> {
    return (await this.d.meta.list(npmLayout.metas(this.name))).slice(0, max).map(decodeSegment);
  }

  private answerOf(doc: RemoteMetaDoc, cache: CacheStatus): PackumentAnswer {
    const read = async (ref: BlobRef): Promise<Uint8Array> => {
      const dg = parseDigest(ref.digest);
      const bytes = dg.ok ? await this.d.blobs.readAll(dg.digest, ref.size) : null;
      if (!bytes) throw new RegistryError('not_found', 'the cached packument is no longer in the store', { code: 'NOT_FOUND' });
      return bytes;
    };
    return {
      etag: doc.full.digest.slice(7, 39),
      cache,
      modified: doc.modified,
      full: () => read(doc.full),
      abbreviated: () => read(doc.abbreviated),
      doc: async () => {
        const p = asPackument(JSON.parse(new TextDecoder().decode(await read(doc.full))));
        if (!p) throw new RegistryError('internal', 'the cached packument is not one');
        return p;
      },
    };
  }

  /** The stored packument: fresh, else asked upstream (the kit's RemoteDocs: one request however many ask; stale while the upstream fails). */
  private current(name: string, via: string | undefined, forced: boolean): Promise<{ doc: RemoteMetaDoc; cache: CacheStatus }> {
    return this.docs.current(npmLayout.meta(this.name, name), name, forced, (prev) => this.refresh(name, prev, via));
  }

  private async refresh(name: string, prev: RemoteMetaDoc | null, via: string | undefined): Promise<{ doc: RemoteMetaDoc; cache: CacheStatus }> {
    const headers: Record<string, string> = {};
    if (prev?.etag) headers['if-none-match'] = prev.etag;
    if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
    const what = `packument of ${name}`;
    const res = await this.d.upstream.request({ method: 'GET', path: packumentPath(name), accept: 'application/json', scope: '', via, headers });
    const key = npmLayout.meta(this.name, name);
    if (res.status === 304 && prev) {
      await res.body?.cancel();
      const doc = { ...prev, fetchedAt: this.d.now() };
      await this.d.meta.put(key, doc);
      return { doc, cache: 'REVALIDATED' };
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, what, 'NOT_FOUND');
    let bytes: Uint8Array;
    try {
      bytes = await readLimited(res.body, this.d.maxPackumentBytes, this.d.idleTimeoutMs, `upstream ${what}`);
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${what} larger than maxPackumentBytes (${this.d.maxPackumentBytes})`);
      throw e;
    }
    let p: Packument | null = null;
    try {
      p = asPackument(JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      p = null;
    }
    if (!p || p.name !== name) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${what} that is not one`);
    const files: Record<string, UpstreamFile> = {};
    for (const [version, m] of Object.entries(p.versions)) {
      const dist = distOf(m);
      let url: URL;
      try {
        url = new URL(dist.tarball ?? tarballPath(name, tarballFile(name, version)).slice(1), this.d.baseUrl.endsWith('/') ? this.d.baseUrl : `${this.d.baseUrl}/`);
      } catch {
        delete p.versions[version];
        continue;
      }
      const file = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
      if (!/^[A-Za-z0-9~][A-Za-z0-9._~+-]*\.tgz$/.test(file)) {
        delete p.versions[version];
        continue;
      }
      files[file] = { url: url.href, ...(dist.integrity ? { integrity: dist.integrity } : {}), ...(dist.shasum ? { shasum: dist.shasum } : {}) };
      p.versions[version] = withTarball(m, `${BASE_MARK}${tarballPath(name, file)}`);
    }
    const modified = p.time['modified'];
    const doc = await this.d.gcGate.withShared(async () => {
      const [full, abbr, map] = [await this.d.blobs.putBytes(encodeJson(p)), await this.d.blobs.putBytes(encodeJson(abbreviate(p))), await this.d.blobs.putBytes(encodeJson(files))];
      const next: RemoteMetaDoc = {
        fetchedAt: this.d.now(),
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
        ...(modified ? { modified } : {}),
        full: { digest: full.digest.value, size: full.size },
        abbreviated: { digest: abbr.digest.value, size: abbr.size },
        files: { digest: map.digest.value, size: map.size },
      };
      await this.d.meta.put(key, next);
      return next;
    });
    this.files.set(doc.files.digest, files);
    return { doc, cache: prev ? (prev.full.digest === doc.full.digest ? 'REVALIDATED' : 'MISS') : 'MISS' };
  }

  /** Where each tarball of a package is upstream (forced: asked again, for a tarball the cached packument lacks). */
  private async filesOf(name: string, via: string | undefined, forced: boolean): Promise<Record<string, UpstreamFile>> {
    const { doc } = await this.current(name, via, forced);
    const hit = this.files.get(doc.files.digest);
    if (hit) return hit;
    const dg = parseDigest(doc.files.digest);
    const bytes = dg.ok ? await this.d.blobs.readAll(dg.digest, doc.files.size) : null;
    if (!bytes) throw new RegistryError('not_found', `the tarball list of ${name} is no longer in the store`, { code: 'NOT_FOUND' });
    const files = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, UpstreamFile>;
    this.files.set(doc.files.digest, files);
    return files;
  }

  tarball(name: string, file: string, via?: string): Promise<CachedFile> {
    return cachedFile<TarballDoc>(this.d, {
      fillKey: `npm:${this.name}:${name}/${file}`,
      docKey: npmLayout.tarball(this.name, name, file),
      negKey: `${name}/-/${file}`,
      what: `tarball ${file} of ${name}`,
      maxBytes: this.d.maxTarballBytes,
      source: async () => {
        // A lockfile ahead of the cache names a version published since: the packument is asked again before any 404.
        // Still missing after that: remembered as a miss (negativeTtlSeconds), so probes for files
        // that do not exist cost the upstream one packument request per name and interval.
        const at = (await this.filesOf(name, via, false))[file] ?? (await this.filesOf(name, via, true))[file];
        if (!at) {
          this.d.negative.add(`${name}/-/${file}`);
          throw notFound(`tarball ${file} (no version of ${name} upstream has it)`);
        }
        return {
          checksum: checksumOf(at),
          fetch: async () => {
            const res = await this.d.upstream.request({ method: 'GET', path: at.url, scope: '', via });
            if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `tarball ${file}`, 'NOT_FOUND');
            return res;
          },
        };
      },
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now() }),
    });
  }

  /** The upstream's own search (passed through, bounded); nothing when it has none. */
  async search(text: string, size: number, via?: string): Promise<SearchHit[]> {
    if (this.d.offline()) return [];
    const res = await this.d.upstream.request({ method: 'GET', path: `/-/v1/search?text=${encodeURIComponent(text)}&size=${size}`, scope: '', via });
    if (res.status !== 200) {
      await res.body?.cancel();
      return [];
    }
    const body = JSON.parse(new TextDecoder().decode(await readLimited(res.body, 4 << 20, this.d.idleTimeoutMs, 'upstream search'))) as { objects?: Array<{ package?: SearchHit }> };
    return (body.objects ?? []).map((o) => o.package).filter((p): p is SearchHit => typeof p?.name === 'string' && typeof p.version === 'string').slice(0, size);
  }
}
