import { RegistryError } from '../../errors.ts';
import { upstreamClientFor } from '../../upstream/build.ts';
import { localRepoDeps } from '../local-repo.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { ViewRepoHandle } from '../view-repo.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { BrowsePage, BuildDeps, BundleFile, BundleIndexEntry, BundleReport, Format, FormatRepo, RequestContext } from '../format.ts';
import { pypiExport, pypiImport } from './bundle.ts';
import { browsePypi } from './browse.ts';
import type { PypiRepoConfig } from './config.ts';
import { handlePypi } from './http.ts';
import { PypiLocal } from './local.ts';
import type { PypiReader } from './reader.ts';
import { PypiRemote } from './remote.ts';
import { pypiStore } from './store.ts';
import type { PypiView } from './view.ts';
import { PypiVirtual } from './virtual.ts';

class PypiRepoHandle extends ViewRepoHandle<PypiView> {
  readonly format = 'pypi';

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browsePypi(this.view.reader, this.name, path, origin);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handlePypi(this.view, req, sub, ctx);
  }

  /** `<project>==<version>` of a hosted index: every file of that version (the bytes go with gc). */
  async remove(path: string): Promise<{ removed: number; parent: string }> {
    const at = path.indexOf('==');
    if (!(this.view.reader instanceof PypiLocal) || at <= 0) throw new RegistryError('invalid', 'name a version as <project>==<version> of a hosted index');
    const project = path.slice(0, at);
    const gone = await this.view.reader.remove(project, { version: path.slice(at + 2) });
    return { removed: gone.length, parent: project };
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return pypiExport(this.view.reader, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!(this.view.writer instanceof PypiLocal)) throw noImportTarget(this.name);
    return pypiImport(this.view.writer, index, onItem);
  }

  /** PEP 592 for `<project>==<version>` of a hosted index: every file of the version, with the reason. */
  async yank(path: string, reason: string | true | null): Promise<{ changed: number; parent: string }> {
    const at = path.indexOf('==');
    if (!(this.view.reader instanceof PypiLocal) || at <= 0) throw new RegistryError('invalid', 'name a version as <project>==<version> of a hosted index');
    const changed = await this.view.reader.yank(path.slice(0, at), path.slice(at + 2), reason);
    return { changed: changed.length, parent: path };
  }
}

const pypiOf = (r: FormatRepo | undefined): PypiView | undefined => (r instanceof PypiRepoHandle ? r.view : undefined);

function build(cfg: PypiRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new PypiLocal({ ...localRepoDeps(cfg.name, d), maxFileBytes: cfg.maxFileBytes, delete: cfg.delete });
    return new PypiRepoHandle({ name: cfg.name, reader: local, writer: local }, d.blobs);
  }
  if (cfg.type === 'remote') {
    const remote = new PypiRemote({
      ...remoteCacheDeps(cfg, cfg.cache.metadataTtlSeconds, d),
      upstream: upstreamClientFor(cfg.name, cfg.upstream, d),
      baseUrl: cfg.upstream.url,
      gcGate: d.gcGate,
      maxPageBytes: cfg.maxPageBytes,
      maxFileBytes: cfg.maxFileBytes,
    });
    return new PypiRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, d.blobs);
  }
  const members: PypiReader[] = cfg.members.map((m) => pypiOf(d.built.get(m))?.reader).filter((m): m is PypiReader => m !== undefined);
  const writer = cfg.deployTo ? pypiOf(d.built.get(cfg.deployTo))?.writer : undefined;
  return new PypiRepoHandle({ name: cfg.name, reader: new PypiVirtual(cfg.name, members, cfg.filters), writer }, d.blobs);
}

/** Python package indexes: hosted (twine upload), cached (a pull-through of PyPI or any simple index), and first-member-wins virtual ones. */
export const pypiFormat: Format = {
  id: 'pypi',
  build: buildFor('pypi', build),
  store: pypiStore,
};
