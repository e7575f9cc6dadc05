import type { ChunkSource } from '../../http/chunk-source.ts';
import { freshness, mayServeStale } from '../../cache/policy.ts';
import type { CacheStatus } from '../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import type { Digest } from '../../storage/digest.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { SingleFlight } from '../../upstream/singleflight.ts';
import { goLayout } from './layout.ts';
import type { GoFileDoc, GoListDoc } from './layout.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { escapeCase, matchesPrivate } from './module.ts';
import { checkModuleZip } from './zip.ts';
import type { SumdbProxy } from './sumdb/proxy.ts';
import { cachedFile } from '../remote-file.ts';

/** What a Go repo answers: a stored file, a download in progress, or a small text (list, @latest). */
export type GoAnswer =
  | { kind: 'blob'; digest: Digest; size: number; cache: CacheStatus }
  | { kind: 'stream'; size: number | undefined; open: (start: number, end: number | undefined) => ChunkSource; cache: CacheStatus }
  | { kind: 'text'; body: string; cache: CacheStatus };

export type GoExt = 'info' | 'mod' | 'zip';

export interface GoReader {
  readonly name: string;
  readonly type: 'local' | 'remote' | 'virtual';
  file(module: string, version: string, ext: GoExt, via?: string): Promise<GoAnswer>;
  list(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }>;
  latest(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }>;
  /** The checksum database this repo proxies under `/sumdb/<name>/`, if any. */
  sumdb(name: string): SumdbProxy | undefined;
}

/** One proxy of a GOPROXY list; `fallOnAnyError`: it was followed by `|` (else `,`: only 404/410 fall through). */
export interface GoUpstream {
  client: UpstreamClient;
  fallOnAnyError: boolean;
}

export interface GoRemoteDeps extends RemoteCacheDeps {
  upstreams: GoUpstream[];
  /** GOPRIVATE-style patterns: never asked upstream. */
  private: string[];
  sumdbs: SumdbProxy[];
}

/** The go command's own limits (cmd/go: modfetch): a .mod over 16 MiB or a zip over 500 MiB is refused. */
const MAX_BYTES: Record<GoExt, number> = { info: 1 << 20, mod: 16 << 20, zip: 500 << 20 };
const MAX_LIST = 4 << 20;

const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });

/**
 * A GOPROXY cache: `.info`, `.mod` and `.zip` are immutable once fetched (one download however many
 * `go` commands ask, streamed while it is written, verified by the go command's own go.sum checks),
 * `@v/list` and `@latest` are kept for `listTtlSeconds` and served stale while every upstream fails.
 * Private modules (GOPRIVATE-style patterns) are never asked upstream.
 */
export class GoRemote implements GoReader {
  readonly type = 'remote' as const;
  readonly name: string;
  private readonly lists = new SingleFlight<GoAnswer & { kind: 'text' }>();

  constructor(private readonly d: GoRemoteDeps) {
    this.name = d.repo;
  }

  async file(module: string, version: string, ext: GoExt, via?: string): Promise<GoAnswer> {
    this.assertPublic(module);
    const path = `${escapeCase(module)}/@v/${escapeCase(version)}.${ext}`;
    return cachedFile<GoFileDoc>(this.d, {
      fillKey: `go:${this.name}:${module}@${version}.${ext}`,
      docKey: goLayout.file(this.name, module, version, ext),
      negKey: path,
      what: `${module}@${version}.${ext}`,
      maxBytes: MAX_BYTES[ext],
      source: async () => ({ fetch: () => this.fromUpstreams(path, via) }),
      doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: this.d.now() }),
      // Kept only if it is what the go command would accept: a .info that is no JSON, or a zip cut
      // short (an upstream whose Content-Length lied), is answered this once and fetched again next time.
      accept: (b) => this.acceptable(module, version, ext, b),
    });
  }

  sumdb(name: string): SumdbProxy | undefined {
    return this.d.sumdbs.find((p) => p.name === name);
  }

  /** Throws (nothing is linked, the blob goes with the next gc) unless a fetched file is well formed. */
  private async acceptable(module: string, version: string, ext: GoExt, b: { digest: Digest; size: number }): Promise<void> {
    const bad = (why: string): RegistryError => new RegistryError('upstream', `the upstream's ${module}@${version}.${ext} ${why}; not cached`, { code: 'UPSTREAM_INVALID' });
    if (ext === 'info') {
      const bytes = await this.d.blobs.readAll(b.digest, MAX_BYTES.info);
      let doc: unknown = null;
      try {
        doc = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
      } catch {
        throw bad('is not JSON');
      }
      if (typeof doc !== 'object' || doc === null || typeof (doc as Record<string, unknown>)['Version'] !== 'string') throw bad('has no Version');
    } else if (ext === 'zip') {
      const fh = await this.d.blobs.open(b.digest);
      if (!fh) throw bad('vanished');
      try {
        await checkModuleZip(fh, b.size, module, version);
      } catch (e) {
        throw bad(`is not a valid module zip (${e instanceof Error ? e.message : String(e)})`);
      } finally {
        await fh.close().catch(() => {});
      }
    }
  }

  list(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }> {
    return this.text(module, 'list', goLayout.list(this.name, module), `${escapeCase(module)}/@v/list`, via);
  }

  latest(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }> {
    return this.text(module, 'latest', goLayout.latest(this.name, module), `${escapeCase(module)}/@latest`, via);
  }

  /** `@v/list` and `@latest`: fresh → HIT; else asked upstream (one request however many ask); failing → STALE. */
  private async text(module: string, what: string, key: string, path: string, via: string | undefined): Promise<GoAnswer & { kind: 'text' }> {
    this.assertPublic(module);
    const doc = await this.d.meta.get<GoListDoc>(key);
    if (doc && (this.d.offline() || freshness(doc.fetchedAt, this.d.now(), this.d.rule) === 'fresh')) return { kind: 'text', body: doc.body, cache: 'HIT' };
    if (this.d.offline()) throw notFound(`${module} ${what} is not cached and repository ${this.name} is offline`);
    return this.lists.do(key, async () => {
      try {
        const res = await this.fromUpstreams(path, via);
        const raw = await readLimited(res.body, MAX_LIST, this.d.idleTimeoutMs, `${module} ${what}`).catch((e: unknown) => {
          // Too large is the upstream's fault, not the client's: 502 with the reason, never 413.
          if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('upstream', `the upstream's ${what} of ${module} is over ${MAX_LIST} bytes`, { code: 'UPSTREAM_INVALID' });
          throw e;
        });
        const body = new TextDecoder().decode(raw);
        await this.d.meta.put(key, { body, fetchedAt: this.d.now() } satisfies GoListDoc, { remember: false });
        return { kind: 'text' as const, body, cache: doc ? ('REVALIDATED' as const) : ('MISS' as const) };
      } catch (e) {
        if (isRegistryError(e) && e.kind === 'not_found') {
          if (doc) await this.d.meta.delete(key);
          throw e;
        }
        if (doc && mayServeStale(doc.fetchedAt, this.d.now(), this.d.rule)) {
          this.d.log.warn('serving stale module list', { repo: this.name, module, error: String(e) });
          return { kind: 'text' as const, body: doc.body, cache: 'STALE' as const };
        }
        throw e;
      }
    }).promise;
  }

  /**
   * GOPROXY list semantics: after a `,` the next proxy is tried only when this one said 404/410;
   * after a `|`, on any failure. The last proxy's answer (or failure) is the answer.
   */
  private async fromUpstreams(path: string, via: string | undefined): Promise<Response> {
    let notFoundErr: RegistryError | undefined;
    for (const [i, u] of this.d.upstreams.entries()) {
      const last = i === this.d.upstreams.length - 1;
      try {
        const res = await u.client.request({ method: 'GET', path, scope: '', via });
        if (res.status === 200) return res;
        const err = await upstreamFailure(res, u.client.host, 'module file', 'NOT_FOUND');
        if (res.status === 404 || res.status === 410) {
          notFoundErr = new RegistryError('not_found', `not found: ${path} (${u.client.host} answered ${res.status})`, { code: 'NOT_FOUND' });
          continue;
        }
        if (!last && u.fallOnAnyError) continue;
        throw err;
      } catch (e) {
        if (!last && u.fallOnAnyError && isRegistryError(e) && e.kind !== 'not_found') continue;
        throw e;
      }
    }
    throw notFoundErr ?? notFound(path);
  }

  private assertPublic(module: string): void {
    if (matchesPrivate(this.d.private, module)) throw notFound(`${module} is private: never asked upstream from ${this.name}`);
  }
}
