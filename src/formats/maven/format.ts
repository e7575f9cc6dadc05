import { buildFor } from '../format.ts';
import type { BrowsePage, BuildDeps, Format, FormatRepo, RepoKind, RequestContext } from '../format.ts';
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
  ) {}

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
}

const mavenOf = (r: FormatRepo | undefined): MavenRepoHandle | undefined => (r instanceof MavenRepoHandle ? r : undefined);

function build(cfg: MavenRepoConfig, d: BuildDeps): FormatRepo {
  const own = [{ meta: d.meta, repo: cfg.name }];
  if (cfg.type === 'local') {
    const local = new MavenLocal({ ...localRepoDeps(cfg.name, d), versionPolicy: cfg.versionPolicy, redeploy: cfg.redeploy, keepSnapshots: cfg.keepSnapshots, maxFileBytes: cfg.maxFileBytes, delete: cfg.delete });
    return new MavenRepoHandle({ name: cfg.name, reader: local, writer: local }, own);
  }
  if (cfg.type === 'remote') {
    const remote = new MavenRemote({
      ...storedNegativeRemoteDeps(cfg, mavenLayout.negative(cfg.name), d),
      maxMetadataBytes: cfg.maxMetadataBytes,
      maxFileBytes: cfg.maxFileBytes,
    });
    return new MavenRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, own);
  }
  const members = cfg.members.map((m) => mavenOf(d.built.get(m))).filter((m): m is MavenRepoHandle => m !== undefined);
  const readers: MavenReader[] = members.map((m) => m.view.reader);
  const writer = cfg.deployTo ? mavenOf(d.built.get(cfg.deployTo))?.view.writer : undefined;
  return new MavenRepoHandle({ name: cfg.name, reader: new MavenVirtual(cfg.name, readers), writer }, members.flatMap((m) => m.trees));
}

/** Maven repositories: hosted (mvn deploy: releases, snapshots), cached (a pull-through of Maven Central or any Maven repository), and virtual ones with merged metadata. */
export const mavenFormat: Format = {
  id: 'maven',
  build: buildFor('maven', build),
  store: mavenStore,
};
