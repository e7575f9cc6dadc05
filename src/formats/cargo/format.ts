import { RegistryError } from '../../errors.ts';
import { buildFor } from '../format.ts';
import { ViewRepoHandle } from '../view-repo.ts';
import { noImportTarget } from '../bundle-util.ts';
import type { BrowsePage, BuildDeps, BundleFile, BundleIndexEntry, BundleReport, Format, FormatRepo, RequestContext } from '../format.ts';
import { localRepoDeps } from '../local-repo.ts';
import { storedNegativeRemoteDeps } from '../remote-cache.ts';
import { browseCargo } from './browse.ts';
import { cargoExport, cargoImport } from './bundle.ts';
import type { CargoRepoConfig } from './config.ts';
import { handleCargo } from './http.ts';
import type { CargoView } from './http.ts';
import { cargoLayout } from './layout.ts';
import { CargoLocal } from './local.ts';
import { CargoRemote } from './remote.ts';
import { cargoStore } from './store.ts';
import { CargoVirtual } from './virtual.ts';

class CargoRepoHandle extends ViewRepoHandle<CargoView> {
  readonly format = 'cargo';

  browse(path: string, origin: string): Promise<BrowsePage | null> {
    return browseCargo(this.view.reader, this.name, path, origin);
  }

  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response> {
    return handleCargo(this.view, req, sub, ctx);
  }

  bundleExport(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
    return cargoExport(this.view.reader, refs);
  }

  /** `<crate>@<version>` of a hosted registry, as `cargo yank` does it (the owner rule included). */
  async yank(path: string, reason: string | true | null, who: { user: string | null; admin: boolean }): Promise<{ changed: number; parent: string }> {
    const at = path.lastIndexOf('@');
    if (!(this.view.reader instanceof CargoLocal) || at <= 0) throw new RegistryError('invalid', 'name a version as <crate>@<version> of a hosted registry');
    await this.view.reader.setYanked(path.slice(0, at).toLowerCase(), path.slice(at + 1), reason !== null, who);
    return { changed: 1, parent: path };
  }

  async bundleImport(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
    if (!this.view.writer) throw noImportTarget(this.name);
    return cargoImport(this.view.writer, this.blobs, index, onItem);
  }
}

const cargoOf = (r: FormatRepo | undefined): CargoView | undefined => (r instanceof CargoRepoHandle ? r.view : undefined);

function build(cfg: CargoRepoConfig, d: BuildDeps): FormatRepo {
  if (cfg.type === 'local') {
    const local = new CargoLocal({ ...localRepoDeps(cfg.name, d), maxCrateBytes: cfg.maxCrateBytes, maxMetadataBytes: cfg.maxMetadataBytes });
    return new CargoRepoHandle({ name: cfg.name, reader: local, writer: local }, d.blobs);
  }
  if (cfg.type === 'remote') {
    const remote = new CargoRemote({
      ...storedNegativeRemoteDeps(cfg, cargoLayout.negative(cfg.name), d),
      maxIndexBytes: cfg.maxIndexBytes,
      maxCrateBytes: cfg.maxCrateBytes,
    });
    return new CargoRepoHandle({ name: cfg.name, reader: remote, writer: undefined }, d.blobs);
  }
  const members = cfg.members.map((m) => cargoOf(d.built.get(m))).filter((m): m is CargoView => m !== undefined);
  const writer = cfg.deployTo ? cargoOf(d.built.get(cfg.deployTo))?.writer : undefined;
  return new CargoRepoHandle({ name: cfg.name, reader: new CargoVirtual(cfg.name, members.map((m) => m.reader)), writer }, d.blobs);
}

/** Cargo registries: hosted (cargo publish, yank, owners), cached (a pull-through of a sparse index such as index.crates.io), and virtual ones. */
export const cargoFormat: Format = {
  id: 'cargo',
  build: buildFor('cargo', build),
  store: cargoStore,
};
