import { Lru } from '../../util/lru.ts';
import type { StoredNegativeCache } from '../../cache/stored-negative.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { utf8OrNull } from '../../util/bytes.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import type { RwLock } from '../../util/rwlock.ts';
import { upstreamBody } from '../remote-cache.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { RemoteDocs } from '../remote-doc.ts';
import { cachedFile } from '../remote-file.ts';
import type { CachedFile } from '../remote-file.ts';
import { parseIndex } from './index-entry.ts';
import type { IndexEntry } from './index-entry.ts';
import { INLINE_INDEX_BYTES, cargoLayout } from './layout.ts';
import type { CachedCrateDoc, RemoteConfigDoc, RemoteIndexDoc } from './layout.ts';
import { indexPath, prefixOf } from './names.ts';
import { notFound, versionIn } from './reader.ts';
import type { CargoReader, IndexAnswer, SearchHit } from './reader.ts';

export interface CargoRemoteDeps extends RemoteCacheDeps {
  /** Names the upstream lacks, kept across restarts. */
  negative: StoredNegativeCache;
  upstream: UpstreamClient;
  gcGate: RwLock;
  maxIndexBytes: number;
  maxCrateBytes: number;
}

/** A download URL from the index's `dl`: its markers filled in, or `/{crate}/{version}/download` appended (the registry protocol). */
export function downloadUrl(dl: string, name: string, vers: string, cksum: string): string {
  if (!/\{(crate|version|prefix|lowerprefix|sha256-checksum)\}/.test(dl)) return `${dl.replace(/\/+$/, '')}/${name}/${vers}/download`;
  return dl
    .replaceAll('{crate}', name)
    .replaceAll('{version}', vers)
    .replaceAll('{prefix}', prefixOf(name))
    .replaceAll('{lowerprefix}', prefixOf(name.toLowerCase()))
    .replaceAll('{sha256-checksum}', cksum);
}

/**
 * A cache of a sparse Cargo registry (index.crates.io, or another sparse index). Index files are
 * stored byte for byte as the upstream sent them (every version it lists is listed here), fresh for
 * metadataTtlSeconds, then revalidated with the upstream's ETag / Last-Modified, and served stale
 * while the upstream fails. Crates are fetched on first download (one upstream request however
 * many clients ask, streamed while stored) and verified against the index's `cksum`: a crate that
 * does not match is refused and never kept.
 */
export class CargoRemote implements CargoReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly indexes: RemoteDocs<RemoteIndexDoc>;
  private readonly configs: RemoteDocs<RemoteConfigDoc>;
  private readonly parsed = new Lru<{ bytes: Uint8Array; entries: IndexEntry[] }>(5000, 128 << 20, (p) => p.bytes.byteLength * 3);

  constructor(private readonly d: CargoRemoteDeps) {
    this.name = d.repo;
    this.indexes = new RemoteDocs<RemoteIndexDoc>(d, 'crate');
    this.configs = new RemoteDocs<RemoteConfigDoc>(d, 'registry config');
  }

  get upstream(): UpstreamClient {
    return this.d.upstream;
  }

  async index(lower: string, opts: { via?: string | undefined; stored?: boolean }): Promise<IndexAnswer> {
    if (opts.stored) {
      const doc = await this.d.meta.get<RemoteIndexDoc>(cargoLayout.index(this.name, lower));
      if (!doc) throw notFound(`crate ${lower} (not cached in ${this.name})`);
      return this.answerOf(doc, 'HIT');
    }
    const { doc, cache } = await this.current(lower, opts.via, false);
    return this.answerOf(doc, cache);
  }

  private async current(lower: string, via: string | undefined, forced: boolean): Promise<{ doc: RemoteIndexDoc; cache: CacheStatus }> {
    await this.d.negative.load();
    return this.indexes.current(cargoLayout.index(this.name, lower), lower, forced, (prev) => this.refresh(lower, prev, via));
  }

  private async answerOf(doc: RemoteIndexDoc, cache: CacheStatus): Promise<IndexAnswer> {
    const p = await this.read(doc);
    const modified = doc.lastModified ? Date.parse(doc.lastModified) : NaN;
    return { bytes: p.bytes, etag: doc.digest.slice(7, 39), modified: Number.isNaN(modified) ? doc.fetchedAt : modified, cache, entries: () => p.entries };
  }

  private async read(doc: RemoteIndexDoc): Promise<{ bytes: Uint8Array; entries: IndexEntry[] }> {
    const hit = this.parsed.get(doc.digest);
    if (hit) return hit;
    let bytes: Uint8Array | null = doc.text !== undefined ? new TextEncoder().encode(doc.text) : null;
    if (!bytes && doc.blob) {
      const dg = parseDigest(doc.blob.digest);
      bytes = dg.ok ? await this.d.blobs.readAll(dg.digest, doc.blob.size) : null;
    }
    if (!bytes) throw new RegistryError('not_found', 'the cached index file is no longer in the store', { code: 'NOT_FOUND' });
    const p = { bytes, entries: parseIndex(bytes) };
    this.parsed.set(doc.digest, p);
    return p;
  }

  private async refresh(lower: string, prev: RemoteIndexDoc | null, via: string | undefined): Promise<{ doc: RemoteIndexDoc; cache: CacheStatus }> {
    const headers: Record<string, string> = {};
    if (prev?.etag) headers['if-none-match'] = prev.etag;
    else if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
    const res = await this.d.upstream.request({ method: 'GET', path: indexPath(lower), scope: '', via, headers });
    const key = cargoLayout.index(this.name, lower);
    if (res.status === 304 && prev) {
      await res.body?.cancel();
      const doc = { ...prev, fetchedAt: this.d.now() };
      await this.d.meta.put(key, doc);
      return { doc, cache: 'REVALIDATED' };
    }
    // The registry protocol: 404, 410 and 451 all mean "no such crate" (cargo then tries the `-`/`_` spelling).
    if (res.status === 410 || res.status === 451) {
      await res.body?.cancel();
      throw notFound(`crate ${lower} upstream`);
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `index file of ${lower}`, 'NOT_FOUND');
    const bytes = await upstreamBody(this.d, res, this.d.maxIndexBytes, `index file of ${lower}`);
    const entries = parseIndex(bytes);
    if (entries.length === 0 && bytes.byteLength > 0) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent an index file of ${lower} without one readable version`);
    const digest = digestOf(bytes).value;
    const base = { fetchedAt: this.d.now(), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), digest };
    // Inline only what reads back as the same bytes: UTF-8 (an index file is JSON lines); anything else goes to a blob.
    const text = bytes.byteLength <= INLINE_INDEX_BYTES ? utf8OrNull(bytes) : null;
    // A blob and the document naming it are written under the gc gate (gc cannot run between them).
    const doc = await this.d.gcGate.withShared(async () => {
      const next: RemoteIndexDoc = text !== null ? { ...base, text } : { ...base, blob: await this.d.blobs.putBytes(bytes).then((b) => ({ digest: b.digest.value, size: b.size })) };
      await this.d.meta.put(key, next);
      return next;
    });
    this.parsed.set(digest, { bytes, entries });
    return { doc, cache: prev ? (prev.digest === doc.digest ? 'REVALIDATED' : 'MISS') : 'MISS' };
  }

  /** The upstream's config.json: where its crates download from. */
  private async config(via: string | undefined): Promise<RemoteConfigDoc> {
    const { doc } = await this.configs.current(cargoLayout.config(this.name), 'config.json', false, async () => {
      const res = await this.d.upstream.request({ method: 'GET', path: 'config.json', scope: '', via, accept: 'application/json' });
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'config.json', 'NOT_FOUND');
      let j: { dl?: unknown };
      try {
        j = JSON.parse(new TextDecoder().decode(await upstreamBody(this.d, res, 64 << 10, 'config.json'))) as typeof j;
      } catch (e) {
        if (isRegistryError(e)) throw e;
        j = {};
      }
      if (typeof j.dl !== 'string' || !j.dl) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a config.json without "dl"`);
      const next: RemoteConfigDoc = { fetchedAt: this.d.now(), dl: j.dl };
      await this.d.meta.put(cargoLayout.config(this.name), next);
      return { doc: next, cache: 'MISS' };
    });
    return doc;
  }

  async crate(name: string, vers: string, via?: string): Promise<CachedFile> {
    await this.d.negative.load();
    const lower = name.toLowerCase();
    return cachedFile<CachedCrateDoc>(this.d, {
      fillKey: `cargo:${this.name}:${lower}/${vers}`,
      docKey: cargoLayout.file(this.name, lower, vers),
      negKey: `${lower}@${vers}`,
      what: `crate ${name} ${vers}`,
      maxBytes: this.d.maxCrateBytes,
      source: async () => {
        // A version's checksum never changes: a stored index file that lists it is enough, however old.
        // A lock file ahead of the cache names a version published since: then the index is asked again before a 404.
        const stored = await this.d.meta.get<RemoteIndexDoc>(cargoLayout.index(this.name, lower));
        const listed = stored ? (await this.read(stored)).entries.find((x) => x.vers === vers && x.name.toLowerCase() === lower) : undefined;
        const e = listed ?? versionIn((await this.read((await this.current(lower, via, stored !== null)).doc)).entries, name, vers, this.name);
        const expected = parseDigest(`sha256:${e.cksum}`);
        if (!expected.ok) throw new RegistryError('upstream', `the upstream index gives no valid checksum for ${name} ${vers}`);
        const url = downloadUrl((await this.config(via)).dl, e.name, e.vers, e.cksum);
        return {
          expected: expected.digest,
          fetch: async () => {
            const res = await this.d.upstream.request({ method: 'GET', path: url, scope: '', via });
            if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `crate ${name} ${vers}`, 'NOT_FOUND');
            return res;
          },
        };
      },
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now() }),
    });
  }

  async names(max: number): Promise<string[]> {
    return (await this.d.meta.list(cargoLayout.indexes(this.name))).slice(0, max).map(decodeSegment);
  }

  /** The names of cached index files matching the text (a sparse index has no search of its own). */
  async search(q: string, max: number): Promise<SearchHit[]> {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    const out: SearchHit[] = [];
    for (const lower of await this.names(10_000)) {
      if (out.length >= max) break;
      if (!words.every((w) => lower.includes(w))) continue;
      const a = await this.index(lower, { stored: true }).catch(() => null);
      const last = a?.entries().filter((e) => !e.yanked).pop();
      if (last) out.push({ name: last.name, max_version: last.vers, description: '' });
    }
    return out;
  }
}
