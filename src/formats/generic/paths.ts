import { RegistryError } from '../../errors.ts';
export { MAX_PATH, checkedSegments, parsePath } from '../paths.ts';
import { decodeSegment, encodeSegment } from '../../storage/key-encoding.ts';
import { LAYOUT_VERSION } from '../../storage/layout.ts';

export { decodeSegment, encodeSegment };

/**
 * Keys under `v1/repos/<repo>/generic/`: `files/<encoded segments>/_f` holds a file's document
 * (so `a` and `a/b` can both be files), folders are the encoded segments themselves.
 */
export const genericLayout = {
  root: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/generic`,
  filesRoot: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/generic/files`,
  dir: (repo: string, segments: string[]): string => [genericLayout.filesRoot(repo), ...segments.map(encodeSegment)].join('/'),
  file: (repo: string, segments: string[]): string => {
    const key = `${genericLayout.dir(repo, segments)}/${FILE_DOC}`;
    // Encoding can triple a segment; the driver refuses keys over 1024 characters.
    if (key.length > 1000) throw new RegistryError('invalid', 'path too long once stored (shorten it or use fewer non-ASCII characters)', { code: 'PATH_INVALID' });
    return key;
  },
};

/** The document name of a file inside its folder. */
export const FILE_DOC = '_f';

/** What the store keeps per file (the bytes are the blob `digest`). */
export interface FileDoc {
  digest: string;
  size: number;
  contentType: string;
  /** When it was written here (local) or fetched (remote), ms. */
  storedAt: number;
  /** Remote repos: the upstream's validators, for conditional revalidation. */
  upstreamEtag?: string;
  upstreamLastModified?: string;
}
