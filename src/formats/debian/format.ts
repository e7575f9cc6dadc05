import { RegistryError } from '../../errors.ts';
import { buildFor } from '../format.ts';
import type { BrowsePage, BuildDeps, BundleFile, BundleIndexEntry, BundleReport, Format, FormatRepo, RequestContext } from '../format.ts';
import { noImportTarget } from '../bundle-util.ts';
import { debianExport, debianImport } from './bundle.ts';
import { localRepoDeps } from '../local-repo.ts';
import { storedNegativeRemoteDeps } from '../remote-cache.ts';
import { ViewRepoHandle } from '../view-repo.ts';
import { browseDebian } from './browse.ts';
import type { DebianRepoConfig } from './config.ts';
import { handleDebian } from './http.ts';
import type { DebianView } from './http.ts';
import { debLayout } from './layout.ts';
import { DebLocal } from './local.ts';
import { DebRemote } from './remote.ts';
import { RepoKey } from './repo-key.ts';
import { debianStore } from './store.ts';
import { SuitePublisher } from './suite-gen.ts';
import { DebVirtual } from './virtual.ts';

class DebianRepoHandle extends ViewRepoHandle<DebianView> {
  readonly format = 'debian';

  constructor(
    view: DebianView,
    blobs: BuildDeps['blobs'],
    private readonly components: string[],
  ) {
    super(view, blobs);
  }

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browseDebian(this.view.reader, this.view.reader instanceof DebLocal ? this.view.reader : undefined, this.name, path, origin, this.components);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleDebian(this.view, req, sub, ctx);
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return debianExport(this.view.reader, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.view.writer) throw noImportTarget(this.name);
    return debianImport(this.view.writer, this.blobs, index, onItem);
  }

  /** `<suite>/<package>[/<version>]` of a hosted suite: every architecture of it leaves the index. */
  async remove(path: string): Promise<{ removed: number; parent: string }> {
    const local = this.view.reader;
    if (!(local instanceof DebLocal)) throw new RegistryError('unsupported', `repository ${this.name} hosts no packages`);
    const [suite = '', name = '', version] = path.split('/');
    const removed = await local.remove(suite, name, version, undefined);
    return { removed, parent: version === undefined ? suite : `${suite}/${name}` };
  }
}

const viewOf = (r: FormatRepo | undefined): DebianView | undefined => (r instanceof DebianRepoHandle ? r.view : undefined);

function build(cfg: DebianRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new DebLocal({ ...localRepoDeps(cfg.name, d), components: cfg.components, architectures: cfg.architectures, maxDebBytes: cfg.maxDebBytes, maxControlBytes: cfg.maxControlBytes, keepVersions: cfg.keepVersions });
    return new DebianRepoHandle({ name: cfg.name, reader: local, writer: local, key: local.key }, d.blobs, cfg.components);
  }
  if (cfg.type === 'remote') {
    const remote = new DebRemote({ ...storedNegativeRemoteDeps(cfg, debLayout.negative(cfg.name), d), maxIndexBytes: cfg.maxIndexBytes, maxDebBytes: cfg.maxDebBytes });
    return new DebianRepoHandle({ name: cfg.name, reader: remote, writer: undefined, key: undefined }, d.blobs, ['main']);
  }
  const members = cfg.members.map((m) => viewOf(d.built.get(m))).filter((m): m is DebianView => m !== undefined);
  const key = new RepoKey(cfg.name, d.meta, d.now);
  const publisher = new SuitePublisher({ repo: cfg.name, meta: d.meta, blobs: d.blobs, gcGate: d.gcGate, key, now: d.now });
  const writer = cfg.deployTo ? viewOf(d.built.get(cfg.deployTo))?.writer : undefined;
  const reader = new DebVirtual(cfg.name, members.map((m) => m.reader), cfg, publisher, d.now);
  return new DebianRepoHandle({ name: cfg.name, reader, writer, key }, d.blobs, cfg.components);
}

/** apt repositories: hosted (uploaded .debs in signed suites), cached (a Debian or Ubuntu archive), and virtual ones. */
export const debianFormat: Format = {
  id: 'debian',
  build: buildFor('debian', build),
  store: debianStore,
};
