import { upstreamClientFor } from '../../upstream/build.ts';
import { PatternFilter } from '../../util/glob.ts';
import { localRepoDeps } from '../local-repo.ts';
import { remoteCacheDeps } from '../remote-cache.ts';
import { buildFor } from '../format.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { BrowsePage, BundleFile, BundleIndexEntry, BundleReport, BuildDeps, Format, FormatRepo, RepoKind, RequestContext, RetentionSummary } from '../format.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { browseGeneric } from './browse.ts';
import { genericExport, genericImport } from './bundle.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { GenericRepoConfig } from './config.ts';
import type { GenericReader, GenericWriter } from './files.ts';
import { handleGeneric } from './http.ts';
import type { GenericView } from './http.ts';
import { GenericLocal } from './local.ts';
import { GenericRemote } from './remote.ts';
import { genericStore } from './store.ts';
import { GenericVirtual } from './virtual.ts';
import { globToRegExp } from '../../util/glob.ts';

/** A generic repo on the format seam. */
class GenericRepoHandle implements FormatRepo {
  readonly format = 'generic';

  constructor(
    readonly view: GenericView,
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    private readonly local?: GenericLocal,
  ) {}

  bundleExport(paths: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return genericExport(this.view.reader, this.blobs, paths);
  }

  bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    const w = this.view.writer;
    if (!w) throw noImportTarget(this.name);
    return genericImport(this.view.reader, w, this.blobs, index, onItem);
  }

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    // A virtual repo stores nothing of its own: the UI lists its members instead.
    return this.type === 'virtual' ? Promise.resolve(null) : browseGeneric(this.meta, this.name, path, origin);
  }

  get name(): string {
    return this.view.name;
  }

  get type(): RepoKind {
    return this.view.reader.type;
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleGeneric(this.view, req, sub, ctx);
  }

  async retain(now: number, dryRun: boolean): Promise<RetentionSummary[]> {
    return this.local ? this.local.retain(now, dryRun) : [];
  }

  usageChanged(): void {
    this.local?.usageChanged();
  }
}

function genericOf(r: FormatRepo | undefined): GenericView | undefined {
  return r instanceof GenericRepoHandle ? r.view : undefined;
}

function build(cfg: GenericRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new GenericLocal({
      ...localRepoDeps(cfg.name, d),
      allowOverwrite: cfg.allowOverwrite,
      allowDelete: cfg.delete,
      maxFileBytes: cfg.maxFileBytes,
      maxBytes: cfg.maxBytes,
      retentionDays: cfg.retentionDays,
    });
    return new GenericRepoHandle({ name: cfg.name, reader: local, writer: local }, d.meta, d.blobs, local);
  }
  if (cfg.type === 'remote') {
    const remote = new GenericRemote({
      ...remoteCacheDeps(cfg, cfg.cache.ttlSeconds, d),
      upstream: upstreamClientFor(cfg.name, cfg.upstream, d),
      immutable: immutableRule(cfg.immutable),
      filter: new PatternFilter(cfg.include, cfg.exclude),
      maxFileBytes: cfg.maxFileBytes,
    });
    return new GenericRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, d.meta, d.blobs);
  }
  const members = cfg.members.map((m) => genericOf(d.built.get(m))?.reader).filter((m): m is GenericReader => m !== undefined);
  const writer: GenericWriter | undefined = cfg.deployTo ? genericOf(d.built.get(cfg.deployTo))?.writer : undefined;
  return new GenericRepoHandle({ name: cfg.name, reader: new GenericVirtual(cfg.name, members, writer), writer }, d.meta, d.blobs);
}

/** Generic files (Artifactory's "generic", Nexus's "raw"): file trees of every kind, hosted, cached or both. */
export const genericFormat: Format = {
  id: 'generic',
  build: buildFor('generic', build),
  store: genericStore,
};

/** `immutable` as a test of a path: all, none, or those matching a pattern. */
function immutableRule(rule: boolean | string[]): (path: string) => boolean {
  if (typeof rule === 'boolean') return () => rule;
  const res = rule.map(globToRegExp);
  return (path) => res.some((r) => r.test(path));
}
