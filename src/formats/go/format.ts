import { upstreamClientFor } from '../../upstream/build.ts';
import { NegativeCache } from '../../cache/policy.ts';
import { localRepoDeps } from '../local-repo.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { BrowsePage, BundleFile, BundleIndexEntry, BundleReport, BuildDeps, Format, FormatRepo, RepoKind, RequestContext } from '../format.ts';
import type { GoRepoConfig } from './config.ts';
import { handleGo } from './http.ts';
import { GoLocal } from './local.ts';
import type { GoWriter } from './local.ts';
import { GoRemote } from './remote.ts';
import type { GoReader, GoUpstream } from './remote.ts';
import { goStore } from './store.ts';
import { KeptFiles } from './sumdb/kept.ts';
import type { SumdbSource } from './sumdb/kept.ts';
import { SumdbProxy } from './sumdb/proxy.ts';
import { browseGo } from './browse.ts';
import { goExport, goImport } from './bundle.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { GoVirtual } from './virtual.ts';

class GoRepoHandle implements FormatRepo {
  readonly format = 'go';

  constructor(
    readonly name: string,
    readonly reader: GoReader,
    readonly writer: GoWriter | undefined,
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
  ) {}

  get type(): RepoKind {
    return this.reader.type;
  }

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    // A virtual repo stores nothing of its own: the UI lists its members instead.
    return this.type === 'virtual' ? Promise.resolve(null) : browseGo(this.meta, this.name, path, origin, this.type === 'local');
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return goExport(this.reader, this.blobs, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.writer) throw noImportTarget(this.name);
    return goImport(this.reader, this.writer, this.blobs, index, onItem);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleGo(this.name, this.reader, this.writer, req, sub, ctx);
  }
}

/** A GOPROXY list (`a,b|c`) as upstream clients, each remembering the separator that follows it. */
function upstreams(cfg: Extract<GoRepoConfig, { type: 'remote' }>, d: BuildDeps): GoUpstream[] {
  const parts = cfg.upstream.url.split(/([,|])/);
  const out: GoUpstream[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const url = (parts[i] ?? '').trim();
    out.push({ client: upstreamClientFor(cfg.name, { ...cfg.upstream, url }, d), fallOnAnyError: parts[i + 1] === '|' });
  }
  return out;
}

/**
 * The checksum databases a remote proxies. With a `url`, the database is asked there (with its own
 * credentials). Without one, as the go command does: through each upstream GOPROXY's
 * `/sumdb/<name>/` (when it says `supported`; its credentials, same host), then the database's own host.
 */
function sumdbs(cfg: Extract<GoRepoConfig, { type: 'remote' }>, d: BuildDeps): SumdbProxy[] {
  const { url: proxies, username, password, ...timeouts } = cfg.upstream;
  return cfg.sumdb.map((db) => {
    const name = db.key.split('+')[0] ?? '';
    const database = (url: string): SumdbSource => ({ kind: 'database', client: upstreamClientFor(cfg.name, { ...timeouts, url, username: db.username, password: db.password }, d) });
    const sources: SumdbSource[] = db.url !== undefined
      ? [database(db.url)]
      : [
          ...proxies.split(/[,|]/).map((u): SumdbSource => ({ kind: 'proxy', client: upstreamClientFor(cfg.name, { ...timeouts, url: `${u.trim().replace(/\/+$/, '')}/sumdb/${name}`, username, password }, d) })),
          database(`https://${name}`),
        ];
    const kept = new KeptFiles({ repo: cfg.name, db: name, sources, blobs: d.blobs, meta: d.meta, gcGate: d.gcGate, accessTimes: d.accessTimes, idleTimeoutMs: cfg.upstream.idleTimeoutSeconds * 1000, now: d.now });
    return new SumdbProxy({
      repo: cfg.name,
      name,
      key: db.key,
      kept,
      meta: d.meta,
      rule: { ttlMs: cfg.cache.sumdbTtlSeconds * 1000, maxStaleMs: cfg.cache.maxStaleSeconds * 1000 },
      negative: new NegativeCache(cfg.cache.negativeTtlSeconds * 1000, d.now),
      offline: () => d.switches.offline(cfg.name) ?? cfg.offline,
      private: cfg.private,
      now: d.now,
      log: d.log,
    });
  });
}

function build(cfg: GoRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'remote') {
    const remote = new GoRemote({ ...remoteCacheDeps(cfg, cfg.cache.listTtlSeconds, d), upstreams: upstreams(cfg, d), private: cfg.private, sumdbs: sumdbs(cfg, d) });
    return new GoRepoHandle(cfg.name, remote, undefined, d.meta, d.blobs);
  }
  if (cfg.type === 'local') {
    const local = new GoLocal({ ...localRepoDeps(cfg.name, d), allowDelete: cfg.delete, bodyIdleMs: d.bodyIdleMs });
    return new GoRepoHandle(cfg.name, local, local, d.meta, d.blobs);
  }
  const handles = cfg.members.map((m) => d.built.get(m)).filter((m): m is GoRepoHandle => m instanceof GoRepoHandle);
  const target = cfg.deployTo ? d.built.get(cfg.deployTo) : undefined;
  return new GoRepoHandle(cfg.name, new GoVirtual(cfg.name, handles.map((m) => m.reader)), target instanceof GoRepoHandle ? target.writer : undefined, d.meta, d.blobs);
}

/** Go modules: the GOPROXY protocol, cached from upstream proxies. */
export const goFormat: Format = {
  id: 'go',
  build: buildFor('go', build),
  store: goStore,
};
