import { upstreamClientFor } from '../../upstream/build.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { localRepoDeps } from '../local-repo.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { ViewRepoHandle } from '../view-repo.ts';
import { noImportTarget } from '../bundle-util.ts';
import { npmExport, npmImport } from './bundle.ts';
import type { BrowsePage, BuildDeps, BundleFile, BundleIndexEntry, BundleReport, Format, FormatRepo, RequestContext } from '../format.ts';
import type { NpmRepoConfig } from './config.ts';
import { handleNpm } from './http.ts';
import type { NpmView } from './view.ts';
import { NpmLocal } from './local.ts';
import type { NpmReader } from './reader.ts';
import { NpmRemote } from './remote.ts';
import { npmStore } from './store.ts';
import { NpmVirtual } from './virtual.ts';
import { browseNpm } from './browse.ts';

class NpmRepoHandle extends ViewRepoHandle<NpmView> {
  readonly format = 'npm';

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browseNpm(this.view.reader, this.name, path, origin);
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return npmExport(this.view.reader, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.view.writer) throw noImportTarget(this.name);
    return npmImport(this.view.reader, this.view.writer, this.blobs, index, onItem);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleNpm(this.view, req, sub, ctx);
  }
}

const npmOf = (r: FormatRepo | undefined): NpmView | undefined => (r instanceof NpmRepoHandle ? r.view : undefined);

function build(cfg: NpmRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new NpmLocal({ ...localRepoDeps(cfg.name, d), maxTarballBytes: cfg.maxTarballBytes, maxDocumentBytes: cfg.maxDocumentBytes, unpublish: cfg.unpublish });
    return new NpmRepoHandle({ name: cfg.name, reader: local, writer: local, upstream: undefined }, d.blobs);
  }
  if (cfg.type === 'remote') {
    const remote = new NpmRemote({
      ...remoteCacheDeps(cfg, cfg.cache.metadataTtlSeconds, d),
      upstream: upstreamClientFor(cfg.name, cfg.upstream, d),
      baseUrl: cfg.upstream.url,
      gcGate: d.gcGate,
      maxPackumentBytes: cfg.maxPackumentBytes,
      maxTarballBytes: cfg.maxTarballBytes,
    });
    return new NpmRepoHandle({ name: cfg.name, reader: remote, writer: undefined, upstream: remote.upstream }, d.blobs);
  }
  const views = cfg.members.map((m) => npmOf(d.built.get(m))).filter((m): m is NpmView => m !== undefined);
  const members: NpmReader[] = views.map((v) => v.reader);
  const upstream: UpstreamClient | undefined = views.find((v) => v.upstream)?.upstream;
  const writer = cfg.deployTo ? npmOf(d.built.get(cfg.deployTo))?.writer : undefined;
  return new NpmRepoHandle({ name: cfg.name, reader: new NpmVirtual(cfg.name, members, cfg.filters, cfg.localNamesShadow), writer, upstream }, d.blobs);
}

/** npm registries: hosted (npm publish), cached (a pull-through of any registry), merged with the dependency-confusion guard. */
export const npmFormat: Format = {
  id: 'npm',
  build: buildFor('npm', build),
  store: npmStore,
};
