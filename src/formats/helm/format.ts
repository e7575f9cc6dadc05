import { upstreamClientFor } from '../../upstream/build.ts';
import { localRepoDeps } from '../local-repo.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { ViewRepoHandle } from '../view-repo.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { BrowsePage, BundleFile, BundleIndexEntry, BundleReport, BuildDeps, Format, FormatRepo, RequestContext } from '../format.ts';
import type { HelmRepoConfig } from './config.ts';
import { handleHelm } from './http.ts';
import type { HelmView } from './http.ts';
import { HelmLocal } from './local.ts';
import type { HelmReader } from './reader.ts';
import { HelmRemote } from './remote.ts';
import { helmStore } from './store.ts';
import { HelmVirtual } from './virtual.ts';
import { browseHelm } from './browse.ts';
import { helmExport, helmImport } from './bundle.ts';

class HelmRepoHandle extends ViewRepoHandle<HelmView> {
  readonly format = 'helm';

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browseHelm(this.view.reader, this.name, path, origin);
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return helmExport(this.view.reader, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.view.writer) throw noImportTarget(this.name);
    return helmImport(this.view.reader, this.view.writer, this.blobs, index, onItem);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleHelm(this.view, req, sub, ctx);
  }
}

const helmOf = (r: FormatRepo | undefined): HelmView | undefined => (r instanceof HelmRepoHandle ? r.view : undefined);

function build(cfg: HelmRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new HelmLocal({
      ...localRepoDeps(cfg.name, d),
      allowOverwrite: cfg.allowOverwrite,
      allowDelete: cfg.delete,
      maxChartBytes: cfg.maxChartBytes,
      indexFormat: cfg.indexFormat,
    });
    return new HelmRepoHandle({ name: cfg.name, reader: local, writer: local }, d.blobs);
  }
  if (cfg.type === 'remote') {
    const remote = new HelmRemote({
      ...remoteCacheDeps(cfg, cfg.cache.indexTtlSeconds, d),
      upstream: upstreamClientFor(cfg.name, cfg.upstream, d),
      baseUrl: cfg.upstream.url,
      gcGate: d.gcGate,
      maxIndexBytes: cfg.maxIndexBytes,
      maxChartBytes: cfg.maxChartBytes,
      indexFormat: cfg.indexFormat,
    });
    return new HelmRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, d.blobs);
  }
  const members = cfg.members.map((m) => helmOf(d.built.get(m))?.reader).filter((m): m is HelmReader => m !== undefined);
  const writer = cfg.deployTo ? helmOf(d.built.get(cfg.deployTo))?.writer : undefined;
  return new HelmRepoHandle({ name: cfg.name, reader: new HelmVirtual(cfg.name, members, cfg.indexFormat), writer }, d.blobs);
}

/** Helm chart repositories: index.yaml repos (hosted, cached, merged) with ChartMuseum's API. */
export const helmFormat: Format = {
  id: 'helm',
  build: buildFor('helm', build),
  store: helmStore,
};
