import { RegistryError, isRegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { MavenTree } from './browse.ts';
import { parseRoute } from './coords.ts';
import { mavenLayout } from './layout.ts';
import type { MavenLocal } from './local.ts';
import type { MavenReader } from './reader.ts';
import { walkTree } from './store.ts';

/** index.json annotation of a file: its path in the repository layout. */
export const MAVEN_PATH = 'io.binaryrepo.maven.path';

function versionDir(ref: string): string[] {
  const [g, a, v, ...rest] = ref.split(':');
  if (!g || !a || !v || rest.length > 0) throw new RegistryError('invalid', `not groupId:artifactId:version: ${ref}`);
  const dir = [...g.split('.'), a, v];
  const r = parseRoute(`/${dir.join('/')}/`);
  if (r.kind !== 'folder') throw new RegistryError('invalid', `not groupId:artifactId:version: ${ref}`);
  return dir;
}

/**
 * Each `groupId:artifactId:version`: every file stored under its version folder (a hosted repo's, or
 * what a remote has cached), else its pom and jar fetched through the repo. Checksum files are not
 * carried: the importing repo computes its own.
 */
export async function mavenExport(reader: MavenReader, trees: MavenTree[], refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const dir = versionDir(ref);
    const paths = new Map<string, string[]>();
    for (const t of trees) await walkTree(t.meta, mavenLayout.dir(t.repo, dir), async (p) => void paths.set([...dir, ...p].join('/'), [...dir, ...p]));
    if (paths.size === 0) for (const ext of ['pom', 'jar']) paths.set(`${dir.join('/')}/${dir[dir.length - 2]}-${dir[dir.length - 1]}.${ext}`, [...dir, `${dir[dir.length - 2]}-${dir[dir.length - 1]}.${ext}`]);
    let found = 0;
    for (const [key, path] of paths) {
      const f = await settled(() => reader.file(path), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null)).catch((e: unknown) => {
        if (isRegistryError(e) && e.kind === 'not_found') return null;
        throw e;
      });
      if (!f) continue;
      if (f.kind !== 'blob') throw new RegistryError('not_found', `/${key} could not be stored for the export`);
      found++;
      files.set(f.digest.value, { digest: f.digest.value, size: f.size });
      index.push({ mediaType: 'application/octet-stream', digest: f.digest.value, size: f.size, annotations: { [MAVEN_PATH]: key } });
    }
    if (found === 0) throw new RegistryError('not_found', `nothing of ${ref} in ${reader.name}`);
  }
  return { files: [...files.values()], index };
}

/** Deploys each file into the hosted repo as a PUT does (checksums and metadata are the repo's own); a file already there with the same bytes is skipped. */
export async function mavenImport(writer: MavenLocal, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const key = e.annotations?.[MAVEN_PATH];
    if (!key) continue;
    const route = parseRoute(`/${key}`);
    const d = parseDigest(e.digest);
    if (route.kind !== 'file' || route.sum || !d.ok) throw new RegistryError('invalid', `not a Maven file in index.json: ${key}`);
    report.items++;
    const had = await writer.file(route.path).catch(() => null);
    if (had?.kind === 'blob' && had.digest.value === d.digest.value) {
      onItem(`${key} (already there)`);
      continue;
    }
    await writer.put(route, blobChunks(blobs, d.digest, key));
    report.blobs++;
    onItem(key);
  }
  return report;
}
