import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { IndexEntry } from './index-entry.ts';
import type { CargoLocal } from './local.ts';
import { checkName, checkVersion } from './names.ts';
import { versionIn } from './reader.ts';
import type { CargoReader } from './reader.ts';

/** index.json annotations of a crate: its name, version and index line (JSON). */
export const CARGO_CRATE = 'io.binaryrepo.cargo.crate';
export const CARGO_VERSION = 'io.binaryrepo.cargo.version';
export const CARGO_ENTRY = 'io.binaryrepo.cargo.entry';
const CRATE = 'application/x-tar';

function parseRef(ref: string): { name: string; vers: string } {
  const at = ref.indexOf('@');
  if (at <= 0) throw new RegistryError('invalid', `not name@version: ${ref}`);
  return { name: checkName(ref.slice(0, at)), vers: checkVersion(ref.slice(at + 1)) };
}

/** Each `name@version`: its .crate as a blob, its index line in the annotations (a remote fetches what it lacks). */
export async function cargoExport(reader: CargoReader, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const { name, vers } = parseRef(ref);
    const entry = versionIn((await reader.index(name.toLowerCase(), {})).entries(), name, vers, reader.name);
    const f = await settled(() => reader.crate(entry.name, entry.vers), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
    if (f.kind !== 'blob') throw new RegistryError('not_found', `${name} ${vers} could not be stored for the export`);
    files.set(f.digest.value, { digest: f.digest.value, size: f.size });
    index.push({ mediaType: CRATE, digest: f.digest.value, size: f.size, annotations: { [CARGO_CRATE]: entry.name, [CARGO_VERSION]: entry.vers, [CARGO_ENTRY]: JSON.stringify(entry) } });
  }
  return { files: [...files.values()], index };
}

/** Adds each crate to the hosted repo (the crate read and checked as a publish is); a version already there with the same bytes is skipped. */
export async function cargoImport(writer: CargoLocal, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const name = e.annotations?.[CARGO_CRATE];
    const vers = e.annotations?.[CARGO_VERSION];
    if (!name || !vers) continue;
    const d = parseDigest(e.digest);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    let entry: unknown;
    try {
      entry = JSON.parse(e.annotations?.[CARGO_ENTRY] ?? '');
    } catch {
      throw new RegistryError('invalid', `the index line of ${name}@${vers} in index.json is not JSON`);
    }
    const stored = await writer.importVersion(entry as IndexEntry, { digest: d.digest, size: e.size }, blobChunks(blobs, d.digest, `${name}@${vers}`));
    report.items++;
    if (stored) report.blobs++;
    onItem(stored ? `${name}@${vers}` : `${name}@${vers} (already there)`);
  }
  return report;
}
