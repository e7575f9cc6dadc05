import { freshness, mayServeStale } from '../../cache/policy.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { SingleFlight } from '../../upstream/singleflight.ts';
import type { RwLock } from '../../util/rwlock.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { renderEntriesSliced } from './index-file.ts';
import type { Entries, IndexFormat } from './index-file.ts';
import { helmLayout } from './layout.ts';
import type { HelmFileDoc, RemoteIndexDoc } from './layout.ts';
import { notFound, splitFile } from './reader.ts';
import type { HelmFile, HelmReader } from './reader.ts';
import { parseUpstreamIndex } from './upstream-index.ts';
import { cachedFile } from '../remote-file.ts';

export interface HelmRemoteDeps extends RemoteCacheDeps {
  upstream: UpstreamClient;
  /** The chart repository's base URL: relative chart URLs resolve against it. */
  baseUrl: string;
  gcGate: RwLock;
  maxIndexBytes: number;
  maxChartBytes: number;
  indexFormat: IndexFormat;
}

/** The upstream index as this process holds it: entries (rewritten), where each archive really is, and its digest. */
interface Loaded {
  doc: RemoteIndexDoc;
  entries: Entries;
  upstream: Map<string, { url: string; digest?: string }>;
}


/**
 * A cache of a classic chart repository. Its index.yaml is fetched with a TTL (revalidated with
 * ETag / Last-Modified, served stale while the upstream fails), parsed once per change, and kept as
 * two blobs: the rewritten entries with the upstream URL of each archive (JSON, parsed again only
 * after a restart) and our rendered index.yaml, served as a file. Every chart URL, absolute,
 * relative or on another host, becomes `charts/<name>-<version>.tgz` here; archives are fetched on
 * first download (one request however many clients ask, streamed while written) and verified
 * against the index digest when it has one.
 */
export class HelmRemote implements HelmReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private loaded: Promise<Loaded | null> | null = null;
  /**
   * The last refresh's failure, remembered for the index TTL: a broken or hostile upstream index is
   * not fetched and parsed again by every request after the TTL (issue 24, 15); meanwhile the last
   * good index is served as after any upstream failure.
   */
  private failed: { until: number; error: unknown } | null = null;
  private readonly refreshes = new SingleFlight<Loaded>();

  constructor(private readonly d: HelmRemoteDeps) {
    this.name = d.repo;
  }

  get indexFormat(): IndexFormat {
    return this.d.indexFormat;
  }

  async entries(via?: string): Promise<{ entries: Entries; token: string }> {
    const { l } = await this.current(via);
    return { entries: l.entries, token: `${this.name}:${l.doc.data.digest}` };
  }

  async indexFile(via?: string): Promise<HelmFile> {
    const { l, cache } = await this.current(via);
    const d = parseDigest(l.doc.rendered.digest);
    if (!d.ok) throw new RegistryError('internal', 'index document names no blob');
    return { kind: 'blob', digest: d.digest, size: l.doc.rendered.size, cache };
  }

  async file(file: string, via?: string): Promise<HelmFile> {
    const f = splitFile(file);
    if (!f) throw notFound(file);
    return cachedFile<HelmFileDoc>(this.d, {
      fillKey: `helm:${this.name}:${file}`,
      docKey: helmLayout.file(this.name, file),
      negKey: file,
      what: `chart file ${file}`,
      maxBytes: this.d.maxChartBytes,
      // The index names the archive's URL and sha256 (verified before the bytes are kept); a .prov has no digest there.
      source: () => this.source(f, file, via),
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now() }),
    });
  }

  /** Where an archive (or its .prov) is fetched from, by the index, and the digest it must have. */
  private async source(f: NonNullable<ReturnType<typeof splitFile>>, file: string, via?: string): Promise<{ expected: Digest | undefined; fetch: () => Promise<Response> }> {
    const { l } = await this.current(via);
    const at = l.upstream.get(f.archive);
    if (!at) throw notFound(`${file} (not in ${this.name}'s index)`);
    const url = f.prov ? `${at.url}.prov` : at.url;
    const pinned = !f.prov && at.digest ? parseDigest(`sha256:${at.digest}`) : null;
    return {
      expected: pinned?.ok ? pinned.digest : undefined,
      fetch: async () => {
        const res = await this.d.upstream.request({ method: 'GET', path: url, scope: '', via });
        if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, `chart file ${file}`, 'NOT_FOUND');
        return res;
      },
    };
  }

  /** The index: fresh from the store, else asked upstream; stale while the upstream fails. */
  private async current(via?: string): Promise<{ l: Loaded; cache: CacheStatus }> {
    const l = await this.load();
    if (l && (this.d.offline() || freshness(l.doc.fetchedAt, this.d.now(), this.d.rule) === 'fresh')) return { l, cache: 'HIT' };
    if (this.d.offline()) throw notFound(`index.yaml of ${this.name} (not cached; the repository is offline)`);
    const stale = (e: unknown): { l: Loaded; cache: CacheStatus } => {
      if (!l || !mayServeStale(l.doc.fetchedAt, this.d.now(), this.d.rule)) throw e;
      return { l, cache: 'STALE' };
    };
    if (this.failed && this.failed.until > this.d.now()) return stale(this.failed.error);
    try {
      const next = await this.refreshes.do('index', () => this.refresh(l, via)).promise;
      this.failed = null;
      return { l: next, cache: !l ? 'MISS' : next.doc.data.digest === l.doc.data.digest ? 'REVALIDATED' : 'MISS' };
    } catch (e) {
      this.failed = { until: this.d.now() + Math.max(this.d.rule.ttlMs, 1000), error: e };
      this.d.log.warn('chart index refresh failed', { repo: this.name, error: String(e) });
      return stale(e);
    }
  }

  /** What the store holds (once per process; refreshes replace it). */
  private load(): Promise<Loaded | null> {
    this.loaded ??= (async () => {
      const doc = await this.d.meta.get<RemoteIndexDoc>(helmLayout.index(this.name));
      const d = doc ? parseDigest(doc.data.digest) : null;
      const bytes = doc && d?.ok ? await this.d.blobs.readAll(d.digest, Number.MAX_SAFE_INTEGER).catch(() => null) : null;
      if (!doc || !bytes) return null;
      const data = JSON.parse(new TextDecoder().decode(bytes)) as { entries: Record<string, Entries extends Map<string, infer V> ? V : never>; upstream: Record<string, { url: string; digest?: string }> };
      return { doc, entries: new Map(Object.entries(data.entries)), upstream: new Map(Object.entries(data.upstream)) };
    })();
    this.loaded.catch(() => (this.loaded = null));
    return this.loaded;
  }

  private async refresh(prev: Loaded | null, via?: string): Promise<Loaded> {
    const headers: Record<string, string> = {};
    if (prev?.doc.etag) headers['if-none-match'] = prev.doc.etag;
    if (prev?.doc.lastModified) headers['if-modified-since'] = prev.doc.lastModified;
    const res = await this.d.upstream.request({ method: 'GET', path: 'index.yaml', scope: '', via, headers });
    if (res.status === 304 && prev) {
      await res.body?.cancel();
      const doc = { ...prev.doc, fetchedAt: this.d.now() };
      await this.d.meta.put(helmLayout.index(this.name), doc);
      const next = { ...prev, doc };
      this.loaded = Promise.resolve(next);
      return next;
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'index.yaml', 'NOT_FOUND');
    const text = new TextDecoder().decode(await readLimited(res.body, this.d.maxIndexBytes, this.d.idleTimeoutMs, `${this.name} index.yaml`));
    const parsed = await parseUpstreamIndex(text, this.d.baseUrl, (msg) => this.d.log.warn(msg, { repo: this.name }));
    const generated = parsed.generated ?? new Date(this.d.now()).toISOString();
    const rendered = new TextEncoder().encode(await renderEntriesSliced(parsed.entries, this.d.indexFormat, generated));
    const data = new TextEncoder().encode(JSON.stringify({ entries: Object.fromEntries(parsed.entries), upstream: Object.fromEntries(parsed.upstream) }));
    const doc = await this.d.gcGate.withShared(async () => {
      const r = await this.d.blobs.putBytes(rendered);
      const b = await this.d.blobs.putBytes(data);
      const next: RemoteIndexDoc = {
        fetchedAt: this.d.now(),
        etag: res.headers.get('etag'),
        lastModified: res.headers.get('last-modified'),
        data: { digest: b.digest.value, size: b.size },
        rendered: { digest: r.digest.value, size: r.size },
        generated,
      };
      await this.d.meta.put(helmLayout.index(this.name), next);
      return next;
    });
    const next: Loaded = { doc, entries: parsed.entries, upstream: parsed.upstream };
    this.loaded = Promise.resolve(next);
    return next;
  }
}
