import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import { chartFile } from './index-file.ts';
import type { HelmLocal } from './local.ts';
import type { HelmReader } from './reader.ts';

/** index.json annotation naming a chart archive (`<name>-<version>.tgz`). */
export const HELM_FILE = 'io.binaryrepo.helm.file';
const TGZ = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

/** Each `name@version` (or `name-version.tgz`): its archive as a blob (a remote fetches what it lacks). */
export async function helmExport(reader: HelmReader, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const at = ref.lastIndexOf('@');
    const file = ref.endsWith('.tgz') ? ref : at > 0 ? chartFile(ref.slice(0, at), ref.slice(at + 1)) : '';
    if (!file || file.includes('/')) throw new RegistryError('invalid', `not name@version or a chart file name: ${ref}`);
    const f = await settled(() => reader.file(file), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
    if (f.kind !== 'blob') throw new RegistryError('not_found', `${file} could not be stored for the export`);
    files.set(f.digest.value, { digest: f.digest.value, size: f.size });
    index.push({ mediaType: TGZ, digest: f.digest.value, size: f.size, annotations: { [HELM_FILE]: file } });
  }
  return { files: [...files.values()], index };
}

/** Uploads each archive through the repo (its chart checks apply); the same archive already there is skipped. */
export async function helmImport(reader: HelmReader, writer: HelmLocal, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const file = e.annotations?.[HELM_FILE];
    if (!file) continue;
    const d = parseDigest(e.digest);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    const have = await reader.file(file).catch(() => null);
    if (have?.kind === 'blob' && have.digest.value === e.digest) {
      report.items++;
      onItem(`${file} (already there)`);
      continue;
    }
    await writer.upload(blobChunks(blobs, d.digest, file), file);
    report.items++;
    report.blobs++;
    onItem(file);
  }
  return report;
}
