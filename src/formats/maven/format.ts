import { RegistryError } from '../../errors.ts';
import { buildFor } from '../format.ts';
import type { BrowsePage, BuildDeps, BundleFile, BundleIndexEntry, BundleReport, Format, FormatRepo, RepoKind, RequestContext } from '../format.ts';
import { noImportTarget } from '../bundle-util.ts';
import { mavenExport, mavenImport } from './bundle.ts';
import { localRepoDeps } from '../local-repo.ts';
import { storedNegativeRemoteDeps } from '../remote-cache.ts';
import { browseMaven } from './browse.ts';
import type { MavenTree } from './browse.ts';
import type { MavenRepoConfig } from './config.ts';
import { handleMaven } from './http.ts';
import type { MavenView } from './http.ts';
import { mavenLayout } from './layout.ts';
import { MavenLocal } from './local.ts';
import type { MavenReader } from './reader.ts';
import { MavenRemote } from './remote.ts';
import { mavenStore } from './store.ts';
import { MavenVirtual } from './virtual.ts';

class MavenRepoHandle implements FormatRepo {
  readonly format = 'maven';

  constructor(
    readonly view: MavenView,
    readonly trees: MavenTree[],
    private readonly blobs: BuildDeps['blobs'],
  ) {}

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return mavenExport(this.view.reader, this.trees, refs);
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.view.writer) throw noImportTarget(this.name);
    return mavenImport(this.view.writer, this.blobs, index, onItem);
  }

  get name(): string {
    return this.view.name;
  }

  get type(): RepoKind {
    return this.view.reader.type;
  }

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browseMaven(this.trees, this.name, path, origin);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleMaven(this.view, req, sub, ctx);
  }

  /** A hosted repo's file or folder (`org/corp/lib/1.0`), as HTTP DELETE does; metadata follows. */
  async remove(path: string): Promise<{ removed: number; parent: string }> {
    const w = this.view.writer;
    if (this.type !== 'local' || !w?.deletes) throw new RegistryError('unsupported', `repository ${this.name} takes no deletes`);
    const parts = path.split('/').filter(Boolean);
    if (parts.length < 2 || parts.some((x) => x === '..' || x === '.')) throw new RegistryError('invalid', 'name a version folder or a file');
    const removed = await w.remove(parts);
    if (removed === 0) throw new RegistryError('not_found', `nothing stored at ${path}`, { code: 'NOT_FOUND' });
    return { removed, parent: parts.slice(0, -1).join('/') };
  }
}

const mavenOf = (r: FormatRepo | undefined): MavenRepoHandle | undefined => (r instanceof MavenRepoHandle ? r : undefined);

function build(cfg: MavenRepoConfig, d: BuildDeps): FormatRepo {
  const own = [{ meta: d.meta, repo: cfg.name }];
  if (cfg.type === 'local') {
    const local = new MavenLocal({ ...localRepoDeps(cfg.name, d), versionPolicy: cfg.versionPolicy, redeploy: cfg.redeploy, keepSnapshots: cfg.keepSnapshots, maxFileBytes: cfg.maxFileBytes, delete: cfg.delete });
    return new MavenRepoHandle({ name: cfg.name, reader: local, writer: local }, own, d.blobs);
  }
  if (cfg.type === 'remote') {
    const remote = new MavenRemote({
      ...storedNegativeRemoteDeps(cfg, mavenLayout.negative(cfg.name), d),
      maxMetadataBytes: cfg.maxMetadataBytes,
      maxFileBytes: cfg.maxFileBytes,
      checksumPolicy: cfg.checksumPolicy,
    });
    return new MavenRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, own, d.blobs);
  }
  const members = cfg.members.map((m) => mavenOf(d.built.get(m))).filter((m): m is MavenRepoHandle => m !== undefined);
  const readers: MavenReader[] = members.map((m) => m.view.reader);
  const writer = cfg.deployTo ? mavenOf(d.built.get(cfg.deployTo))?.view.writer : undefined;
  return new MavenRepoHandle({ name: cfg.name, reader: new MavenVirtual(cfg.name, readers), writer }, members.flatMap((m) => m.trees), d.blobs);
}

/** Maven repositories: hosted (mvn deploy: releases, snapshots), cached (a pull-through of Maven Central or any Maven repository), and virtual ones with merged metadata. */
export const mavenFormat: Format = {
  id: 'maven',
  build: buildFor('maven', build),
  store: mavenStore,
};
