import { RegistryError } from '../../errors.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { GenericReader, GenericWriter } from './files.ts';
import { checkedSegments } from './paths.ts';

/** The index.json annotation that names a generic file's path in its repo. */
export const FILE_PATH = 'io.binaryrepo.generic.path';

/** A bundle's file path by the HTTP routes' rules (no control characters, CR/LF, backslashes, dot segments). */
function segmentsOf(path: string): string[] {
  const segs = checkedSegments(path);
  if (segs.length === 0) throw new RegistryError('invalid', `not a file path: ${JSON.stringify(path)}`);
  return segs;
}

/**
 * Generic files in a bundle: each path's content as a blob, one index.json entry per file naming
 * its path. A remote repo fetches (and caches) what it does not hold yet.
 */
export async function genericExport(reader: GenericReader, blobs: BlobStore, paths: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const path of paths) {
    const segs = segmentsOf(path);
    const got = await settled(() => reader.get(segs, false), (g) => (g.source === 'stream' ? g.open(0, undefined) : null));
    if (got.source !== 'store') throw new RegistryError('not_found', `/${path} could not be stored for the export`);
    const st = await blobs.stat(got.digest);
    if (!st) throw new RegistryError('not_found', `the content of /${path} is missing from the store`);
    files.set(got.digest.value, { digest: got.digest.value, size: st.size });
    index.push({ mediaType: got.doc.contentType || 'application/octet-stream', digest: got.digest.value, size: st.size, annotations: { [FILE_PATH]: segs.join('/') } });
  }
  return { files: [...files.values()], index };
}

/** Each entry naming a file path is written through the repo's writer (its overwrite rules and quota apply). */
export async function genericImport(reader: GenericReader, writer: GenericWriter, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  // Every path checked before anything is written: a bad entry fails the import, not half of it.
  for (const e of index) {
    const path = e.annotations?.[FILE_PATH];
    if (path) segmentsOf(path);
  }
  for (const e of index) {
    const path = e.annotations?.[FILE_PATH];
    if (!path) continue;
    const d = parseDigest(e.digest);
    // Importing the same bundle again: the same content at the same path is already done.
    const have = await reader.get(segmentsOf(path), true).catch(() => null);
    if (have?.source === 'store' && have.digest.value === e.digest) {
      report.items++;
      onItem(`/${path} (already there)`);
      continue;
    }
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    await writer.put(segmentsOf(path), blobChunks(blobs, d.digest, `the content of /${path}`), { contentType: e.mediaType, ...(d.digest.algorithm === 'sha256' ? { sha256: d.digest.hex } : {}) });
    report.items++;
    report.blobs++;
    onItem(`/${path}`);
  }
  return report;
}
