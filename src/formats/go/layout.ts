import { encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';
import { escapeCase } from './module.ts';

/**
 * Keys under `v1/repos/<repo>/go/`: a module's folder is its escaped path, segment by segment
 * (storage-encoded); `_v/` holds `<version>.info|.mod|.zip` documents (each naming its blob), `list`
 * and `latest` (cached answers with their fetch time).
 */
export const goLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/go`,
  versions: (repo: string, module: string): string => `${goLayout.root(repo)}/${escapeCase(module).split('/').map(encodeSegment).join('/')}/_v`,
  file: (repo: string, module: string, version: string, ext: string): string => `${goLayout.versions(repo, module)}/${encodeSegment(escapeCase(version))}.${ext}`,
  list: (repo: string, module: string): string => `${goLayout.versions(repo, module)}/list`,
  latest: (repo: string, module: string): string => `${goLayout.versions(repo, module)}/latest`,
  /** A proxied checksum database's folder; `_sumdb` has no dot, so it is no module path's first element. */
  sumdb: (repo: string, db: string): string => `${goLayout.root(repo)}/_sumdb/${encodeSegment(db)}`,
};

/** A cached .info, .mod or .zip (or a checksum database's lookup or tile): its bytes are the blob `digest`. */
export interface GoFileDoc {
  digest: string;
  size: number;
  storedAt: number;
  /** Tiles only: how many hashes (or records) the kept tile holds. */
  width?: number;
}

/** A cached `@v/list` or `@latest` answer. */
export interface GoListDoc {
  body: string;
  fetchedAt: number;
}
