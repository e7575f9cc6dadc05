import { RegistryError } from '../../errors.ts';
import { upstreamClientFor } from '../../upstream/build.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { WarmEvents, BrowsePage, BundleFile, BundleIndexEntry, BundleReport, BuildDeps, Format, FormatRepo, RepoKind, RequestContext, RetentionSummary } from '../format.ts';
import { browseDocker } from './browse.ts';
import { dockerExport, dockerImport } from './bundle.ts';
import type { DockerLocalConfig, DockerRemoteConfig, DockerRepoConfig } from './config.ts';
import { dockerOf, dockerRootRoute, handleRepoPath } from './http.ts';
import { ImageFilter } from './image-filter.ts';
import { DockerLocal } from './local.ts';
import { parseImageRef, warmImage } from './warm.ts';
import { RepoQuota } from './quota.ts';
import { DockerRemote } from './remote.ts';
import type { DockerRepo } from './repo.ts';
import { retainDockerRepo } from './retention.ts';
import { dockerStore } from './store.ts';
import { DockerVirtual } from './virtual.ts';

/** Hosts where Docker Hub's implicit `library/` prefix applies. */
const DOCKER_HUB = /(^|\.)docker\.io$/;

/** A Docker repo on the format seam: the core sees a FormatRepo, the format's own code the DockerRepo. */
class DockerRepoHandle implements FormatRepo {
  readonly format = 'docker';

  constructor(
    readonly name: string,
    readonly docker: DockerRepo,
    private readonly deps: BuildDeps,
    private readonly cfg: DockerRepoConfig,
  ) {}

  get type(): RepoKind {
    return this.docker.type;
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleRepoPath(this.name, req, sub, ctx);
  }

  async retain(now: number, dryRun: boolean): Promise<RetentionSummary[]> {
    if (!(this.docker instanceof DockerLocal) || this.cfg.type !== 'local') return [];
    return retainDockerRepo(this.deps, this.docker, this.cfg, now, dryRun);
  }

  usageChanged(): void {
    if (this.docker instanceof DockerLocal) this.docker.usageChanged();
  }

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    // A virtual repo stores nothing of its own: the UI lists its members instead.
    if (this.cfg.type === 'virtual') return Promise.resolve(null);
    return browseDocker(this.deps, this.name, path, origin);
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return dockerExport(this.docker, this.deps.blobs, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.docker.writer) throw noImportTarget(this.name);
    return dockerImport(this.docker.writer, this.deps.blobs, index, onItem);
  }

  async warm(ref: string, opts: { platform?: string; events?: WarmEvents }): Promise<Record<string, unknown>> {
    if (!(this.docker instanceof DockerRemote)) throw new RegistryError('unsupported', `${this.name} is not a remote Docker repository`);
    const parsed = parseImageRef(ref);
    if (!parsed) throw new RegistryError('invalid', `not an image reference: ${ref}`);
    return { ...(await warmImage(this.docker, this.deps.fills, parsed.image, parsed.ref, opts.platform, opts.events)) };
  }
}

function build(cfg: DockerRepoConfig, deps: BuildDeps): FormatRepo {
  if (cfg.type === 'remote') return new DockerRepoHandle(cfg.name, dockerRemote(cfg, deps), deps, cfg);
  if (cfg.type === 'local') return new DockerRepoHandle(cfg.name, dockerLocal(cfg, deps), deps, cfg);
  // Virtual repos are built last: their members exist by now (the config checked they are local or remote).
  const members = cfg.members.map((m) => dockerOf(deps.built.get(m))).filter((m): m is DockerRepo => m !== undefined);
  const target = cfg.deployTo ? dockerOf(deps.built.get(cfg.deployTo)) : undefined;
  return new DockerRepoHandle(cfg.name, new DockerVirtual(cfg.name, members, target?.writer), deps, cfg);
}

/** Docker/OCI: the distribution-spec registry API, Docker token auth, pull-through caching. */
export const dockerFormat: Format = {
  id: 'docker',
  build: buildFor('docker', build),
  store: dockerStore,
  rootRoute: dockerRootRoute,
};

function dockerLocal(rc: DockerLocalConfig, s: BuildDeps): DockerLocal {
  return new DockerLocal({
    repo: rc.name,
    blobs: s.blobs,
    meta: s.meta,
    uploads: s.uploads,
    gcGate: s.gcGate,
    manifestMaxBytes: rc.manifestMaxBytes,
    allowDelete: rc.delete,
    immutableTags: rc.immutableTags,
    maxUploadSessions: rc.maxUploadSessions,
    linkGraceMs: s.gcGraceMinutes * 60_000,
    now: s.now,
    ...(rc.maxBytes > 0 ? { quota: new RepoQuota(rc.name, rc.maxBytes, s.meta, s.blobs, s.now) } : {}),
  });
}


function dockerRemote(rc: DockerRemoteConfig, s: BuildDeps): DockerRemote {
  const up = rc.upstream;
  return new DockerRemote({
    ...remoteCacheDeps(rc, rc.cache.tagTtlSeconds, s),
    upstream: upstreamClientFor(rc.name, up, s),
    manifestMaxBytes: rc.manifestMaxBytes,
    blobMaxBytes: rc.blobMaxBytes,
    libraryPrefix: up.libraryPrefix ?? DOCKER_HUB.test(new URL(up.url).hostname),
    filter: new ImageFilter(rc.include, rc.exclude),
  });
}
