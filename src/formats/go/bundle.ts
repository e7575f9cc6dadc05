import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { blobStream, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { GoWriter } from './local.ts';
import { checkModulePath, checkVersion } from './module.ts';
import type { GoExt, GoReader } from './remote.ts';

/** index.json annotations naming a Go module file. */
export const GO_MODULE = 'io.binaryrepo.go.module';
export const GO_VERSION = 'io.binaryrepo.go.version';
export const GO_EXT = 'io.binaryrepo.go.ext';
/** Published in this order on import: the zip last, so .info keeps its original time and .mod is compared. */
const EXTS: GoExt[] = ['info', 'mod', 'zip'];

function parseRef(ref: string): { module: string; version: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0) throw new RegistryError('invalid', `not module@version: ${ref}`);
  const module = ref.slice(0, at);
  const version = ref.slice(at + 1);
  checkModulePath(module);
  checkVersion(version);
  return { module, version };
}

/** Each `module@version`: its .info, .mod and .zip as blobs (a remote fetches what it lacks). */
export async function goExport(reader: GoReader, blobs: BlobStore, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const { module, version } = parseRef(ref);
    for (const ext of EXTS) {
      const a = await settled(() => reader.file(module, version, ext), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
      if (a.kind !== 'blob') throw new RegistryError('not_found', `${module}@${version}.${ext} could not be stored for the export`);
      files.set(a.digest.value, { digest: a.digest.value, size: a.size });
      index.push({ mediaType: 'application/octet-stream', digest: a.digest.value, size: a.size, annotations: { [GO_MODULE]: module, [GO_VERSION]: version, [GO_EXT]: ext } });
    }
  }
  return { files: [...files.values()], index };
}

/** Publishes each module version through the repo's writer (its zip checks apply); one already there with the same zip is skipped. */
export async function goImport(reader: GoReader, writer: GoWriter, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  const versions = new Map<string, Map<GoExt, BundleIndexEntry>>();
  for (const e of index) {
    const [module, version, ext] = [e.annotations?.[GO_MODULE], e.annotations?.[GO_VERSION], e.annotations?.[GO_EXT]];
    if (!module || !version || !EXTS.includes(ext as GoExt)) continue;
    const key = `${module}@${version}`;
    const m = versions.get(key) ?? new Map<GoExt, BundleIndexEntry>();
    m.set(ext as GoExt, e);
    versions.set(key, m);
  }
  for (const [key, files] of versions) {
    const { module, version } = parseRef(key);
    const zip = files.get('zip');
    if (!zip) throw new RegistryError('invalid', `the bundle has no .zip for ${key}`);
    const have = await reader.file(module, version, 'zip').catch(() => null);
    if (have?.kind === 'blob' && have.digest.value === zip.digest) {
      report.items++;
      onItem(`${key} (already there)`);
      continue;
    }
    for (const ext of EXTS) {
      const e = files.get(ext);
      const d = e ? parseDigest(e.digest) : null;
      if (!e || !d?.ok) continue;
      await writer.put(module, version, ext, blobStream(blobs, d.digest, `${key}.${ext}`));
      report.blobs++;
    }
    report.items++;
    onItem(key);
  }
  return report;
}
