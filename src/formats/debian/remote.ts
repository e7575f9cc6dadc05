import { Lru } from '../../util/lru.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { utf8OrNull } from '../../util/bytes.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { upstreamBody } from '../remote-cache.ts';
import { RemoteDocs } from '../remote-doc.ts';
import type { CachedFile } from '../remote-file.ts';
import { clearSigned, parseRelease } from './control.ts';
import type { ReleaseInfo } from './control.ts';
import { chunksOf, linesOf, poolEntries, sourceEntries, stanzasOfLines } from './index-scan.ts';
import { debLayout } from './layout.ts';
import type { ReleaseCopy, ReleaseDoc, ReleaseFileDoc } from './layout.ts';
import { notFound } from './reader.ts';
import type { DebReader, MemberIndex, SuiteFile } from './reader.ts';
import { BY_HASH, BY_SHA512 } from './suite-files.ts';
import { cachedIndex, cachedPool } from './remote-files.ts';
import type { DebRemoteDeps } from './remote-files.ts';

export type { DebRemoteDeps };

/** How long a client's update is pinned to the release file it was given (apt reads every index within seconds of it). */
const PIN_MS = 10 * 60_000;
const INLINE_BYTES = 256 << 10;

/** Index file paths of one component/architecture, best first: .gz streams with the runtime's own gunzip, .xz is held whole. */
function packagesCandidates(info: ReleaseInfo, dir: string): string[] {
  const base = dir.endsWith('/source') ? 'Sources' : 'Packages';
  return [`${base}.gz`, `${base}.xz`, base].map((f) => `${dir}/${f}`).filter((p) => info.files.has(p));
}

/**
 * A cache of a Debian or Ubuntu archive. The suite's InRelease (or Release and Release.gpg) is
 * passed through byte for byte, so clients keep checking the archive's own signature, and
 * revalidated after metadataTtlSeconds. Every index is served from the generation that the release
 * file a client was given names: fetched once by hash (by-hash when the archive offers it), verified
 * against the size and SHA256 listed there, and stored under that hash, so a client never gets a
 * mix of two generations; a client is pinned for a while to the release file it last read, and the
 * previous one is kept. Pool files are verified against their Packages entry and never change.
 * While the upstream is down the cached generation is served until its Valid-Until.
 */
export class DebRemote implements DebReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly releases: RemoteDocs<ReleaseDoc>;
  private readonly passthrough: RemoteDocs<ReleaseFileDoc>;
  private readonly infos = new Lru<ReleaseInfo>(200, 64 << 20, (i) => i.files.size * 200);
  private readonly pins = new Lru<{ digest: string; at: number }>(20_000);
  private readonly pools = new Lru<Map<string, { size: number; sha256: string }>>(64, 256 << 20, (m) => m.size * 200);

  constructor(private readonly d: DebRemoteDeps) {
    this.name = d.repo;
    this.releases = new RemoteDocs<ReleaseDoc>(d, 'suite');
    this.passthrough = new RemoteDocs<ReleaseFileDoc>(d, 'release file');
  }

  get upstream(): UpstreamClient {
    return this.d.upstream;
  }

  async suites(): Promise<string[]> {
    return (await this.d.meta.list(debLayout.releases(this.name))).map(decodeSegment);
  }

  private async release(suite: string, via: string | undefined): Promise<{ doc: ReleaseDoc; cache: CacheStatus }> {
    await this.d.negative.load();
    const r = await this.releases.current(debLayout.release(this.name, suite), suite, false, (prev) => this.refresh(suite, prev, via));
    if (r.cache === 'STALE') {
      const until = (await this.info(r.doc)).validUntil;
      if (until !== undefined && until < this.d.now()) throw new RegistryError('unavailable', `the upstream of ${this.name} is unreachable and the cached ${suite} release expired (Valid-Until ${new Date(until).toUTCString()})`, { retryAfter: 30 });
    }
    return r;
  }

  private async get(path: string, via: string | undefined, headers: Record<string, string> = {}): Promise<Response> {
    return this.d.upstream.request({ method: 'GET', path, scope: '', via, headers });
  }

  private async refresh(suite: string, prev: ReleaseDoc | null, via: string | undefined): Promise<{ doc: ReleaseDoc; cache: CacheStatus }> {
    const headers: Record<string, string> = {};
    if (prev?.etag) headers['if-none-match'] = prev.etag;
    else if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
    const key = debLayout.release(this.name, suite);
    let kind: ReleaseDoc['kind'] = 'InRelease';
    let res = await this.get(`dists/${suite}/InRelease`, via, prev?.kind === 'InRelease' ? headers : {});
    if (res.status === 404) {
      await res.body?.cancel();
      kind = 'Release';
      res = await this.get(`dists/${suite}/Release`, via, prev?.kind === 'Release' ? headers : {});
    }
    if (res.status === 304 && prev) {
      await res.body?.cancel();
      const doc = { ...prev, fetchedAt: this.d.now() };
      await this.d.meta.put(key, doc);
      return { doc, cache: 'REVALIDATED' };
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `suite ${suite}`, 'NOT_FOUND');
    const bytes = await upstreamBody(this.d, res, 32 << 20, `${kind} of ${suite}`);
    const text = utf8OrNull(bytes);
    const signed = text === null ? null : kind === 'InRelease' ? clearSigned(text) : text;
    if (signed === null || parseRelease(signed).files.size === 0) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${kind} of ${suite} that lists no SHA256 index files`);
    const digest = digestOf(bytes).value;
    if (prev && prev.digest === digest) {
      const doc = { ...prev, fetchedAt: this.d.now(), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
      await this.d.meta.put(key, doc);
      return { doc, cache: 'REVALIDATED' };
    }
    const doc = await this.d.gcGate.withShared(async () => {
      const copy: ReleaseCopy = bytes.byteLength <= INLINE_BYTES && text !== null ? { kind, digest, text } : { kind, digest, blob: await this.d.blobs.putBytes(bytes).then((b) => ({ digest: b.digest.value, size: b.size })) };
      // The one before stays: clients that read it a moment ago still get its indexes.
      const next: ReleaseDoc = { ...copy, fetchedAt: this.d.now(), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), ...(prev ? { previous: { kind: prev.kind, digest: prev.digest, ...(prev.text !== undefined ? { text: prev.text } : {}), ...(prev.blob ? { blob: prev.blob } : {}) } } : {}) };
      await this.d.meta.put(key, next);
      return next;
    });
    return { doc, cache: 'MISS' };
  }

  private async bytesOf(c: ReleaseCopy): Promise<Uint8Array> {
    if (c.text !== undefined) return new TextEncoder().encode(c.text);
    const dg = c.blob ? parseDigest(c.blob.digest) : null;
    const b = dg?.ok && c.blob ? await this.d.blobs.readAll(dg.digest, c.blob.size) : null;
    if (!b) throw new RegistryError('not_found', 'the cached release file is no longer in the store', { code: 'NOT_FOUND' });
    return b;
  }

  private async info(c: ReleaseCopy): Promise<ReleaseInfo> {
    const hit = this.infos.get(c.digest);
    if (hit) return hit;
    const text = new TextDecoder().decode(await this.bytesOf(c));
    const info = parseRelease((c.kind === 'InRelease' ? clearSigned(text) : text) ?? '');
    this.infos.set(c.digest, info);
    return info;
  }

  /** The release copies to resolve indexes by for this client: the one it was given, then the current one, then the previous. */
  private copies(doc: ReleaseDoc, suite: string, client: string): ReleaseCopy[] {
    const pin = client ? this.pins.get(`${client}\0${suite}`) : undefined;
    const all = [doc, ...(doc.previous ? [doc.previous] : [])];
    const pinned = pin && pin.at > this.d.now() - PIN_MS ? all.find((c) => c.digest === pin.digest) : undefined;
    return pinned ? [pinned, ...all.filter((c) => c !== pinned)] : all;
  }

  async suiteFile(suite: string, path: string, client: string, via: string | undefined): Promise<SuiteFile> {
    const { doc, cache } = await this.release(suite, via);
    if (path === doc.kind) {
      if (client) this.pins.set(`${client}\0${suite}`, { digest: doc.digest, at: this.d.now() });
      // Last-Modified names the content (the upstream's own date), never when it was fetched: apt asks If-Modified-Since.
      const lm = doc.lastModified ? Date.parse(doc.lastModified) : NaN;
      return { kind: 'bytes', bytes: await this.bytesOf(doc), etag: doc.digest.slice(7, 39), modified: Number.isNaN(lm) ? ((await this.info(doc)).date ?? doc.fetchedAt) : lm, cache };
    }
    if (path === 'InRelease') throw notFound(`dists/${suite}/InRelease (the upstream publishes Release and Release.gpg)`);
    if (path === 'Release' || path === 'Release.gpg') return this.passthroughFile(suite, path, via);
    const copies = this.copies(doc, suite, client);
    const m = BY_HASH.exec(path);
    if (m?.[1] && m[2]) {
      const [dir, hex] = [m[1], m[2]];
      let listed: string | undefined;
      for (const c of copies) {
        for (const [p, f] of (await this.info(c)).files) if (f.sha256 === hex && p.startsWith(`${dir}/`)) listed ??= p;
      }
      return { kind: 'file', file: await this.indexFile(suite, listed ?? path, hex, true, via) };
    }
    const long = BY_SHA512.exec(path);
    for (const c of copies) {
      const info = await this.info(c);
      const listed = long?.[2] ? info.sha512.get(long[2]) : undefined;
      const f = info.files.get(listed ?? path);
      if (f && listed) return { kind: 'file', file: await this.indexFile(suite, listed, f.sha256, info.byHash, via) };
      if (f) return { kind: 'file', file: await this.indexFile(suite, path, f.sha256, info.byHash, via) };
    }
    throw notFound(`dists/${suite}/${path} (not listed in the suite's release file)`);
  }

  /** Release or Release.gpg beside an InRelease: passed through as a pair's half, revalidated as the suite is. */
  private async passthroughFile(suite: string, file: string, via: string | undefined): Promise<SuiteFile> {
    const key = debLayout.releaseFile(this.name, suite, file);
    const { doc, cache } = await this.passthrough.current(key, `${suite}/${file}`, false, async () => {
      const res = await this.get(`dists/${suite}/${file}`, via);
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `dists/${suite}/${file}`, 'NOT_FOUND');
      const text = utf8OrNull(await upstreamBody(this.d, res, 32 << 20, `dists/${suite}/${file}`));
      if (text === null || text.length > INLINE_BYTES * 3) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${file} of ${suite} this cache does not keep`);
      const next = { fetchedAt: this.d.now(), text };
      await this.d.meta.put(key, next);
      return { doc: next, cache: 'MISS' };
    });
    const bytes = new TextEncoder().encode(doc.text);
    return { kind: 'bytes', bytes, etag: digestOf(bytes).hex.slice(0, 32), modified: doc.fetchedAt, cache };
  }

  private indexFile(suite: string, path: string, hex: string, byHash: boolean, via: string | undefined): Promise<CachedFile> {
    return cachedIndex(this.d, suite, path, hex, byHash, via);
  }

  /**
   * Size and SHA256 of a pool file, from the indexes of the release files this client and the cache
   * hold: a package's Packages entry, or (a .dsc, an .orig.tar, a .debian.tar: `apt-get source`)
   * its source package's Sources entry.
   */
  private async expected(path: string, client: string, via: string | undefined): Promise<{ size: number; sha256: string } | undefined> {
    const parts = path.split('/');
    const arch = /_([a-z0-9-]+)\.u?deb$/.exec(path)?.[1];
    for (const suite of await this.suites()) {
      const doc = await this.d.meta.get<ReleaseDoc>(debLayout.release(this.name, suite));
      if (!doc) continue;
      for (const c of this.copies(doc, suite, client)) {
        const info = await this.info(c);
        const comps = info.components.length ? info.components : [parts[1] ?? 'main'];
        // The pool's own component first (pool/<component>/...), then the others (some archives lay the pool out differently).
        const ordered = [...comps.filter((x) => x === parts[1] || x.endsWith(`/${parts[1] ?? ''}`)), ...comps.filter((x) => x !== parts[1])];
        for (const comp of ordered) {
          const dirs = arch === undefined ? [`${comp}/source`] : (arch === 'all' ? info.architectures.filter((a) => a !== 'source') : [arch]).map((a) => `${comp}/binary-${a}`);
          for (const dir of dirs) {
            const hit = (await this.packagesOf(suite, info, dir, via))?.get(path);
            if (hit) return hit;
          }
        }
      }
    }
    return undefined;
  }

  /**
   * The pool entries of one component/architecture from the first of its Packages files the archive
   * has: a Release may list an index that the mirror does not carry (Debian lists the uncompressed
   * Packages it never publishes), so a missing one is passed over for the next.
   */
  private async packagesOf(suite: string, info: ReleaseInfo, dir: string, via: string | undefined): Promise<Map<string, { size: number; sha256: string }> | null> {
    for (const idx of packagesCandidates(info, dir)) {
      const f = info.files.get(idx);
      if (!f) continue;
      try {
        return await this.poolMap(suite, idx, f.sha256, info.byHash, via);
      } catch (e) {
        if (!(isRegistryError(e) && e.kind === 'not_found')) throw e;
      }
    }
    return null;
  }

  private async poolMap(suite: string, idx: string, hex: string, byHash: boolean, via: string | undefined): Promise<Map<string, { size: number; sha256: string }>> {
    const hit = this.pools.get(hex);
    if (hit) return hit;
    const f = await this.indexFile(suite, idx, hex, byHash, via);
    const lines = linesOf(chunksOf(this.d.blobs, f), idx, this.d.maxIndexBytes * 16);
    const m = await (idx.includes('/source/Sources') ? sourceEntries(lines) : poolEntries(lines));
    this.pools.set(hex, m);
    return m;
  }

  async pool(path: string, via: string | undefined, client: string): Promise<CachedFile> {
    await this.d.negative.load();
    const e = await this.expected(path, client, via);
    if (!e) throw notFound(`${path} (no Packages or Sources index of ${this.name} read so far lists it; run apt-get update through this repository)`);
    return cachedPool(this.d, path, e, via);
  }

  async shape(suite: string, via: string | undefined): Promise<{ components: string[]; architectures: string[] }> {
    const info = await this.info((await this.release(suite, via)).doc);
    return { components: info.components, architectures: info.architectures.filter((a) => a !== 'source' && a !== 'all') };
  }

  async index(suite: string, component: string, arch: string, via: string | undefined): Promise<MemberIndex | null> {
    const r = await this.release(suite, via).catch((e: unknown) => {
      if (isRegistryError(e) && e.kind === 'not_found') return null;
      throw e;
    });
    if (!r) return null;
    const info = await this.info(r.doc);
    const [idx] = packagesCandidates(info, `${component}/binary-${arch}`);
    const f = idx ? info.files.get(idx) : undefined;
    if (!idx || !f) return { gen: r.doc.digest, stanzas: async () => [] };
    return { gen: r.doc.digest, stanzas: async () => stanzasOfLines(linesOf(chunksOf(this.d.blobs, await this.indexFile(suite, idx, f.sha256, info.byHash, via)), idx, this.d.maxIndexBytes * 16)) };
  }
}
