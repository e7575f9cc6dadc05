import { Lru } from '../../util/lru.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import type { RwLock } from '../../util/rwlock.ts';
import { drain } from '../bundle-util.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { RemoteDocs } from '../remote-doc.ts';
import { cachedFile } from '../remote-file.ts';
import type { CachedFile } from '../remote-file.ts';
import { pypiLayout } from './layout.ts';
import type { FileDoc, RemotePageDoc } from './layout.ts';
import type { ProjectPage, PyFile } from './page.ts';
import { notFound } from './reader.ts';
import type { PageAnswer, PageOptions, PypiReader } from './reader.ts';
import { parseHtmlPage, parseJsonPage } from './upstream-page.ts';
import { wheelMetadata } from './wheel-metadata.ts';

export interface PypiRemoteDeps extends RemoteCacheDeps {
  upstream: UpstreamClient;
  /** The simple index's URL: relative links on its pages resolve against `<url>/<project>/`. */
  baseUrl: string;
  gcGate: RwLock;
  maxPageBytes: number;
  maxFileBytes: number;
}

const ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';
/** A page doc names at most this many extracted `.metadata` hashes (documents stay small). */
const MAX_EXTRACTED = 4000;

/**
 * A cache of a package index (PyPI, a mirror, pypiserver, devpi). A project page is fetched once
 * per TTL (conditional, stale while the upstream fails), read once per change (HTML or JSON) and
 * stored as our page model with each file's upstream URL, rendered here with links through us.
 * Files are fetched once however many clients ask, verified against the page's sha256. A wheel's
 * `.metadata` comes from the upstream when it offers one; else it is read out of the cached wheel
 * (central directory, nothing unpacked) and listed with its hash from then on.
 */
export class PypiRemote implements PypiReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly docs: RemoteDocs<RemotePageDoc>;
  /** Parsed pages by blob digest: a burst of file misses of one project parses its page once. */
  private readonly parsed = new Lru<ProjectPage>(500, 64 << 20, (p) => p.files.length * 300 + 200);

  constructor(private readonly d: PypiRemoteDeps) {
    this.name = d.repo;
    this.docs = new RemoteDocs<RemotePageDoc>(d, 'project');
  }

  async projects(max: number): Promise<string[]> {
    return (await this.d.meta.list(pypiLayout.pages(this.name))).slice(0, max).map(decodeSegment);
  }

  async page(project: string, opts: PageOptions): Promise<PageAnswer> {
    const key = pypiLayout.page(this.name, project);
    const got = opts.stored ? await this.d.meta.get<RemotePageDoc>(key).then((doc) => (doc ? { doc, cache: 'HIT' as CacheStatus } : null)) : await this.docs.current(key, project, false, (prev) => this.refresh(project, prev, opts.via));
    if (!got) throw notFound(`project ${project} (not cached in ${this.name})`);
    const { doc, cache } = got;
    const extracted = doc.extracted ?? {};
    return {
      etag: `${doc.page.digest.slice(7, 39)}-${Object.keys(extracted).length}`,
      cache,
      modified: doc.lastModified ?? undefined,
      page: async () => {
        const page = await this.stored(doc);
        return { ...page, files: page.files.map((f) => (f.coreMetadata === undefined && extracted[f.filename] ? { ...f, coreMetadata: extracted[f.filename] } : f)) };
      },
    };
  }

  private async stored(doc: RemotePageDoc): Promise<ProjectPage> {
    const hit = this.parsed.get(doc.page.digest);
    if (hit) return hit;
    const dg = parseDigest(doc.page.digest);
    const bytes = dg.ok ? await this.d.blobs.readAll(dg.digest, doc.page.size) : null;
    if (!bytes) throw new RegistryError('not_found', 'the cached page is no longer in the store', { code: 'NOT_FOUND' });
    const page = JSON.parse(new TextDecoder().decode(bytes)) as ProjectPage;
    this.parsed.set(doc.page.digest, page);
    return page;
  }

  private async refresh(project: string, prev: RemotePageDoc | null, via: string | undefined): Promise<{ doc: RemotePageDoc; cache: CacheStatus }> {
    const headers: Record<string, string> = {};
    if (prev?.etag) headers['if-none-match'] = prev.etag;
    if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
    const what = `project page of ${project}`;
    const res = await this.d.upstream.request({ method: 'GET', path: `${project}/`, accept: ACCEPT, scope: '', via, headers });
    const key = pypiLayout.page(this.name, project);
    if (res.status === 304 && prev) {
      await res.body?.cancel();
      const doc = await this.d.meta.update<RemotePageDoc>(key, (c) => ({ ...(c ?? prev), fetchedAt: this.d.now() }));
      return { doc: doc ?? prev, cache: 'REVALIDATED' };
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, what, 'NOT_FOUND');
    let bytes: Uint8Array;
    try {
      bytes = await readLimited(res.body, this.d.maxPageBytes, this.d.idleTimeoutMs, `upstream ${what}`);
    } catch (e) {
      if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${what} larger than maxPageBytes (${this.d.maxPageBytes})`);
      throw e;
    }
    const text = new TextDecoder().decode(bytes);
    const pageUrl = res.url || new URL(`${project}/`, this.d.baseUrl.endsWith('/') ? this.d.baseUrl : `${this.d.baseUrl}/`).href;
    let page: ProjectPage | null;
    if (/json/i.test(res.headers.get('content-type') ?? '')) {
      try {
        page = parseJsonPage(JSON.parse(text), pageUrl, project);
      } catch {
        page = null;
      }
      if (!page) throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a ${what} that is not a PEP 691 page`);
    } else page = parseHtmlPage(text, pageUrl, project);
    const serial = Number(res.headers.get('x-pypi-last-serial'));
    if (Number.isSafeInteger(serial) && serial > 0) page.lastSerial = serial;
    const blob = await this.d.gcGate.withShared(async () => {
      const b = await this.d.blobs.putBytes(new TextEncoder().encode(JSON.stringify(page)));
      const next: RemotePageDoc = { fetchedAt: this.d.now(), etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified'), page: { digest: b.digest.value, size: b.size } };
      // Hashes extracted from cached wheels stay: the files did not change, only the page did.
      return this.d.meta.update<RemotePageDoc>(key, (c) => ({ ...next, ...(c?.extracted ? { extracted: c.extracted } : {}) }));
    });
    if (!blob) throw new RegistryError('internal', `the ${what} could not be stored`);
    return { doc: blob, cache: prev ? (prev.page.digest === blob.page.digest ? 'REVALIDATED' : 'MISS') : 'MISS' };
  }

  /** A file of the page (asked again once if the cached page does not list it: a release since). */
  private async entry(project: string, file: string, via: string | undefined): Promise<PyFile> {
    const find = async (forced: boolean): Promise<PyFile | undefined> => {
      const { doc } = await this.docs.current(pypiLayout.page(this.name, project), project, forced, (prev) => this.refresh(project, prev, via));
      return (await this.stored(doc)).files.find((f) => f.filename === file);
    };
    const f = (await find(false)) ?? (await find(true));
    if (!f?.upstream) throw notFound(`${file} (no file of ${project} upstream has that name)`);
    return f;
  }

  file(project: string, file: string, via?: string): Promise<CachedFile> {
    return cachedFile<FileDoc>(this.d, {
      fillKey: this.fillKey(project, file),
      docKey: pypiLayout.file(this.name, project, file),
      negKey: `${project}/${file}`,
      what: file,
      maxBytes: this.d.maxFileBytes,
      source: async () => {
        const f = await this.entry(project, file, via);
        const expected = f.sha256 ? parseDigest(`sha256:${f.sha256}`) : null;
        return { ...(expected?.ok ? { expected: expected.digest } : {}), fetch: () => this.fetch(f.upstream ?? '', file, via) };
      },
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now(), cached: true }),
      // A wheel without upstream metadata: its METADATA is read out now, so pages list it from here on.
      accept: async (b) => {
        if (file.endsWith('.whl')) await this.extract(project, file, b.digest, b.size).catch((e: unknown) => this.d.log.warn('wheel metadata not extracted', { repo: this.name, file, error: String(e) }));
      },
    });
  }

  private fillKey(project: string, file: string): string {
    return `pypi:${this.name}:${project}/${file}`;
  }

  private async fetch(url: string, what: string, via: string | undefined): Promise<Response> {
    const res = await this.d.upstream.request({ method: 'GET', path: url, scope: '', via });
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, what, 'NOT_FOUND');
    return res;
  }

  /** Reads a cached wheel's METADATA into its own blob and names its hash in the page document. */
  private async extract(project: string, file: string, digest: Digest, size: number): Promise<void> {
    const key = pypiLayout.metadata(this.name, project, file);
    if (await this.d.meta.exists(key)) return;
    const fh = await this.d.blobs.open(digest);
    if (!fh) return;
    let bytes: Uint8Array | null;
    try {
      bytes = await wheelMetadata(fh, size);
    } finally {
      await fh.close();
    }
    if (!bytes) return;
    await this.d.gcGate.withShared(async () => {
      const m = await this.d.blobs.putBytes(bytes);
      await this.d.meta.put(key, { digest: m.digest.value, size: m.size, storedAt: this.d.now(), cached: true } satisfies FileDoc);
      await this.d.meta.update<RemotePageDoc>(pypiLayout.page(this.name, project), (c) => {
        if (!c || Object.keys(c.extracted ?? {}).length >= MAX_EXTRACTED) return undefined;
        return { ...c, extracted: { ...c.extracted, [file]: m.digest.hex } };
      });
    });
  }

  async metadata(project: string, file: string, via?: string): Promise<CachedFile> {
    // Resolvers ask for many .metadata files: a stored one answers without reading the page.
    const have = await this.storedMetadata(project, file);
    if (have) return have;
    const f = await this.entry(project, file, via);
    if (f.upstreamMetadata) {
      const url = f.upstreamMetadata;
      const expected = typeof f.coreMetadata === 'string' ? parseDigest(`sha256:${f.coreMetadata}`) : null;
      return cachedFile<FileDoc>(this.d, {
        fillKey: `pypi:${this.name}:${project}/${file}.metadata`,
        docKey: pypiLayout.metadata(this.name, project, file),
        negKey: `${project}/${file}.metadata`,
        what: `${file}.metadata`,
        maxBytes: 16 << 20,
        source: async () => ({ ...(expected?.ok ? { expected: expected.digest } : {}), fetch: () => this.fetch(url, `${file}.metadata`, via) }),
        doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now(), cached: true }),
      });
    }
    if (!file.endsWith('.whl')) throw notFound(`${file}.metadata (only wheels have one here)`);
    // The wheel is fetched (once, through the fill) and its METADATA read out of it.
    const w = await this.file(project, file, via);
    if (w.kind === 'stream') {
      await drain(w.open(0, undefined));
      await this.d.fills.settled(this.fillKey(project, file));
    } else await this.extract(project, file, w.digest, w.size);
    const got = await this.storedMetadata(project, file);
    if (!got) throw notFound(`${file}.metadata (the wheel has no single METADATA)`);
    return got;
  }

  private async storedMetadata(project: string, file: string): Promise<CachedFile | null> {
    const doc = await this.d.meta.get<FileDoc>(pypiLayout.metadata(this.name, project, file));
    const dg = doc ? parseDigest(doc.digest) : null;
    if (!doc || !dg?.ok || !(await this.d.blobs.stat(dg.digest))) return null;
    this.d.accessTimes.touch(this.name, dg.digest.value);
    return { kind: 'blob', digest: dg.digest, size: doc.size, cache: 'HIT' };
  }
}
