import type { BlobStore } from '../storage/blob-store.ts';
import type { FormatRepo, RepoKind, RequestContext } from './format.ts';

/** A format's view of one repo: its name and the reader every kind answers with (local, remote, virtual). */
export interface RepoView {
  name: string;
  reader: { readonly type: RepoKind };
}

/**
 * The repo handle most formats hand the core (Cargo, Helm, npm, PyPI): the view they build, the
 * blob store their imports read from, name and kind taken from the view. A format adds its
 * `format` id, `handle` and whatever else of FormatRepo it serves (browse, bundles).
 */
export abstract class ViewRepoHandle<V extends RepoView> implements FormatRepo {
  abstract readonly format: string;

  constructor(
    readonly view: V,
    protected readonly blobs: BlobStore,
  ) {}

  get name(): string {
    return this.view.name;
  }

  get type(): RepoKind {
    return this.view.reader.type;
  }

  abstract handle(req: Request, sub: string, ctx: RequestContext): Promise<Response>;
}
