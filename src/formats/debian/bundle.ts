import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import { field } from './control.ts';
import type { DebLocal } from './local.ts';
import type { DebReader } from './reader.ts';

/** index.json annotations of a package file: the suite and component it is filed under, and its name and version. */
export const DEB_SUITE = 'io.binaryrepo.debian.suite';
export const DEB_COMPONENT = 'io.binaryrepo.debian.component';
export const DEB_PACKAGE = 'io.binaryrepo.debian.package';
export const DEB_VERSION = 'io.binaryrepo.debian.version';
const DEB = 'application/vnd.debian.binary-package';

function parseRef(ref: string): { suite: string; name: string; version: string | undefined } {
  const m = /^([A-Za-z0-9][A-Za-z0-9._+-]*)\/([a-z0-9][a-z0-9+.-]+)(?:=(.+))?$/.exec(ref);
  if (!m?.[1] || !m[2]) throw new RegistryError('invalid', `not <suite>/<package>[=<version>]: ${ref}`);
  return { suite: m[1], name: m[2], version: m[3] };
}

/**
 * Each `<suite>/<package>[=<version>]`: every file of it the suite's indexes list (every
 * architecture; every version when none is named), as blobs; a remote fetches what it lacks.
 */
export async function debianExport(reader: DebReader, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const { suite, name, version } = parseRef(ref);
    const shape = await reader.shape(suite, undefined);
    const seen = new Set<string>();
    for (const comp of shape.components) {
      for (const arch of shape.architectures) {
        const idx = await reader.index(suite, comp, arch, undefined);
        for (const s of (await idx?.stanzas()) ?? []) {
          const path = field(s, 'Filename') ?? '';
          const v = field(s, 'Version') ?? '';
          if (field(s, 'Package') !== name || (version !== undefined && v !== version) || seen.has(path)) continue;
          seen.add(path);
          const f = await settled(() => reader.pool(path, undefined, ''), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
          if (f.kind !== 'blob') throw new RegistryError('not_found', `${path} could not be stored for the export`);
          files.set(f.digest.value, { digest: f.digest.value, size: f.size });
          index.push({ mediaType: DEB, digest: f.digest.value, size: f.size, annotations: { [DEB_SUITE]: suite, [DEB_COMPONENT]: comp, [DEB_PACKAGE]: name, [DEB_VERSION]: v } });
        }
      }
    }
    if (seen.size === 0) throw new RegistryError('not_found', `no ${name}${version ? ` ${version}` : ''} in suite ${suite} of ${reader.name}`);
  }
  return { files: [...files.values()], index };
}

/** Uploads each package file into its suite and component (read and checked as an upload is); one already there is skipped. */
export async function debianImport(writer: DebLocal, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const suite = e.annotations?.[DEB_SUITE];
    const comp = e.annotations?.[DEB_COMPONENT];
    if (!suite || !comp) continue;
    const d = parseDigest(e.digest);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    const label = `${suite}/${e.annotations?.[DEB_PACKAGE] ?? '?'}=${e.annotations?.[DEB_VERSION] ?? '?'}`;
    const r = await writer.upload(suite, comp, blobChunks(blobs, d.digest, label), e.size, null);
    report.items++;
    if (!r.existed) report.blobs++;
    onItem(r.existed ? `${label} (already there)` : `${label} (${r.entry.arch})`);
  }
  return report;
}
