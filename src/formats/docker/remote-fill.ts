import { joinResumable } from '../../cache/resume.ts';
import { bodyOf } from '../../util/native-body.ts';
import type { Fill } from '../../cache/fills.ts';
import type { FillManager } from '../../cache/fill-manager.ts';
import { announcedSize } from '../../upstream/response.ts';
import { RegistryError } from '../../errors.ts';
import { idleTimeoutBody } from '../../util/streams.ts';
import type { StoredBlob } from '../../storage/blob-store.ts';
import type { Digest } from '../../storage/digest.ts';
import type { BlobResult } from './results.ts';

/** Blob sizes remembered per remote repo from the manifests it fetched. */
export const DECLARED_SIZES = 50_000;
/** A fill that has received nothing for this long (or half the idle timeout) takes no new joiners. */
const STALL_MS = 5000;

export interface BlobFillContext {
  repo: string;
  digest: Digest;
  fills: FillManager;
  idleTimeoutMs: number;
  blobMaxBytes: number;
  /** The size a fetched manifest declared for this blob, if any. */
  declared(): number | undefined;
  /** The upstream GET, already checked to be a 200. */
  get(): Promise<Response>;
  /** Links the committed blob into this repo (when joining another repo's download). */
  link(b: StoredBlob): Promise<unknown>;
  /** Runs once the owner's fill has committed: link, access time, eviction accounting. */
  stored(b: StoredBlob): Promise<void>;
}

/**
 * The size a blob fill expects: the manifest's declared size, else the upstream's Content-Length —
 * but never a length of transfer-encoded bytes (the fetch decodes them; the length counts the gzip).
 */
export function blobSize(res: Response, declared: number | undefined): number | undefined {
  const announced = announcedSize(res);
  if (declared !== undefined && announced !== undefined && declared !== announced) {
    throw new RegistryError('upstream', `upstream announced ${announced} bytes for a blob its manifest declares as ${declared}`);
  }
  return declared ?? announced;
}

/**
 * A blob not in the store, from the one shared download of it (started here, or joined). A client
 * that joined a download which failed before it had anything gets a fresh one; its body resumes
 * once with a fresh fill if the download fails midway (resumingReader).
 */
export async function fillBlob(c: BlobFillContext): Promise<Extract<BlobResult, { source: 'fill' }>> {
  const join = (): { fill: Fill; coalesced: boolean } => {
    const joined = c.fills.join(
      c.digest.value,
      c.digest,
      async () => {
        const res = await c.get();
        if (!res.body) throw new RegistryError('upstream', 'upstream sent no blob body');
        const size = blobSize(res, c.declared());
        const body = idleTimeoutBody(bodyOf(res) ?? res.body, c.idleTimeoutMs, `blob ${c.digest.value}`);
        return { body, size, maxBytes: c.blobMaxBytes };
      },
      c.repo,
      c.stored,
      Math.min(STALL_MS, c.idleTimeoutMs / 2),
    );
    // Joining another repo's download: that repo links its own copy; this one links ours.
    if (joined.coalesced && c.fills.ownerOf(c.digest.value) !== c.repo) joined.fill.done.then(c.link, () => {});
    return joined;
  };
  const j = await joinResumable(join);
  return { source: 'fill', digest: c.digest, fill: j.fill, open: j.open, size: j.size, cache: !j.coalesced ? 'MISS' : j.complete ? 'HIT' : 'COALESCED' };
}
