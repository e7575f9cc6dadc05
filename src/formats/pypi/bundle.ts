import { RegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import { sameVersion } from '../../util/pep440.ts';
import { settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { PypiLocal } from './local.ts';
import { checkProject, normalize, parseFilename } from './names.ts';
import type { PypiReader } from './reader.ts';

/** index.json annotations of a Python distribution file: its project, file name, and what its page and JSON API show. */
export const PYPI_PROJECT = 'io.binaryrepo.pypi.project';
export const PYPI_FILE = 'io.binaryrepo.pypi.filename';
export const PYPI_REQUIRES = 'io.binaryrepo.pypi.requires-python';
export const PYPI_YANKED = 'io.binaryrepo.pypi.yanked';
export const PYPI_INFO = 'io.binaryrepo.pypi.info';
const FILE = 'application/octet-stream';

function parseRef(ref: string): { project: string; version: string } {
  const at = ref.indexOf('==');
  if (at <= 0 || ref.length > 300) throw new RegistryError('invalid', `not project==version: ${ref.slice(0, 300)}`);
  return { project: normalize(checkProject(ref.slice(0, at))), version: ref.slice(at + 2) };
}

const versionOf = (file: string): string | null => {
  try {
    return parseFilename(file).version;
  } catch {
    return null;
  }
};

/**
 * Each `project==version`: every file of that version its page lists (wheels and sdists), as
 * blobs; a remote fetches (and verifies) what it has not cached. Yanks, requires-python and a
 * hosted upload's metadata fields travel in the annotations.
 */
export async function pypiExport(reader: PypiReader, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const { project, version } = parseRef(ref);
    const page = await (await reader.page(project, {})).page();
    const chosen = page.files.filter((f) => {
      const v = versionOf(f.filename);
      return v !== null && sameVersion(v, version);
    });
    if (chosen.length === 0) throw new RegistryError('not_found', `${reader.name} has no files of ${project} ${version}`);
    const info = (await reader.info?.(project, version)) ?? null;
    for (const f of chosen) {
      const got = await settled(() => reader.file(project, f.filename), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
      if (got.kind !== 'blob') throw new RegistryError('not_found', `${f.filename} could not be stored for the export`);
      files.set(got.digest.value, { digest: got.digest.value, size: got.size });
      const annotations: Record<string, string> = { [PYPI_PROJECT]: project, [PYPI_FILE]: f.filename };
      if (f.requiresPython) annotations[PYPI_REQUIRES] = f.requiresPython;
      if (f.yanked !== undefined) annotations[PYPI_YANKED] = f.yanked === true ? '' : f.yanked;
      if (info) annotations[PYPI_INFO] = JSON.stringify(info);
      index.push({ mediaType: FILE, digest: got.digest.value, size: got.size, annotations });
    }
  }
  return { files: [...files.values()], index };
}

/** The metadata fields an annotation carries: strings and string lists only, bounded. */
function infoOf(text: string | undefined): Record<string, string | string[]> {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = text.length <= 256 * 1024 ? JSON.parse(text) : null;
  } catch {
    raw = null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RegistryError('invalid', 'the metadata fields of a file in index.json are not a JSON object');
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return out;
}

/** Adds each file to the hosted index, checked as an upload is; a file already there with the same bytes is skipped. */
export async function pypiImport(writer: PypiLocal, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const project = e.annotations?.[PYPI_PROJECT];
    const filename = e.annotations?.[PYPI_FILE];
    if (!project || !filename) continue;
    const d = parseDigest(e.digest);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    const yanked = e.annotations?.[PYPI_YANKED];
    const requiresPython = e.annotations?.[PYPI_REQUIRES];
    const stored = await writer.importFile(project, filename, { digest: d.digest, size: e.size }, {
      info: infoOf(e.annotations?.[PYPI_INFO]),
      ...(requiresPython ? { requiresPython } : {}),
      ...(yanked !== undefined ? { yanked: yanked === '' ? true : yanked } : {}),
    });
    report.items++;
    if (stored) report.blobs++;
    onItem(stored ? filename : `${filename} (already there)`);
  }
  return report;
}
