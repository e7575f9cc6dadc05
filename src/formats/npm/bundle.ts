import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import { toBase64, utf8 } from '../../util/base64.ts';
import { blobChunks, settled } from '../bundle-util.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import type { NpmLocal } from './local.ts';
import { checkName, tarballFile } from './names.ts';
import { distOf } from './packument.ts';
import type { JsonObject } from './packument.ts';
import type { NpmReader } from './reader.ts';

/** index.json annotations of an npm tarball: its package, version and version manifest (JSON). */
export const NPM_PACKAGE = 'io.binaryrepo.npm.package';
export const NPM_VERSION = 'io.binaryrepo.npm.version';
export const NPM_MANIFEST = 'io.binaryrepo.npm.manifest';
const TGZ = 'application/gzip';

/** `name@version` (`@scope/name@version`): the package and version a ref names. */
function parseRef(ref: string): { name: string; version: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0) throw new RegistryError('invalid', `not name@version: ${ref}`);
  const name = ref.slice(0, at);
  checkName(name, false);
  return { name, version: ref.slice(at + 1) };
}

/** Each `name@version` (a dist-tag too): its tarball as a blob, its manifest in the annotations (a remote fetches what it lacks). */
export async function npmExport(reader: NpmReader, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  for (const ref of refs) {
    const { name, version: asked } = parseRef(ref);
    const doc = await (await reader.packument(name, {})).doc();
    const version = doc['dist-tags'][asked] ?? asked;
    const manifest = doc.versions[version];
    if (!manifest) throw new RegistryError('not_found', `${name} has no version ${asked}`);
    const file = tarballFile(name, version);
    const f = await settled(() => reader.tarball(name, file), (x) => (x.kind === 'stream' ? x.open(0, undefined) : null));
    if (f.kind !== 'blob') throw new RegistryError('not_found', `${file} could not be stored for the export`);
    // The manifest travels without its tarball URL (the importing server makes its own) but with
    // integrity and shasum, which the import's publish checks the bytes against.
    const dist = distOf(manifest);
    const rest: JsonObject = { ...manifest, dist: { ...(dist.integrity ? { integrity: dist.integrity } : {}), ...(dist.shasum ? { shasum: dist.shasum } : {}) } };
    files.set(f.digest.value, { digest: f.digest.value, size: f.size });
    index.push({ mediaType: TGZ, digest: f.digest.value, size: f.size, annotations: { [NPM_PACKAGE]: name, [NPM_VERSION]: version, [NPM_MANIFEST]: JSON.stringify(rest) } });
  }
  return { files: [...files.values()], index };
}

/**
 * A publish document as npm sends it, streamed: the tarball's bytes base64-encoded as they are
 * read, so an import goes through the same checks (names, integrity, size caps) as `npm publish`
 * and never holds a whole tarball.
 */
async function* publishBody(name: string, version: string, manifest: JsonObject, size: number, chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const file = tarballFile(name, version);
  const head = { _id: name, name, 'dist-tags': {}, versions: { [version]: { ...manifest, name, version } } };
  yield utf8(`${JSON.stringify(head).slice(0, -1)},"_attachments":{${JSON.stringify(file)}:{"content_type":"application/octet-stream","length":${size},"data":"`);
  let rest = new Uint8Array(0);
  for await (const c of chunks) {
    const all = new Uint8Array(rest.byteLength + c.byteLength);
    all.set(rest);
    all.set(c, rest.byteLength);
    // base64 of whole 3-byte groups only, so the pieces join into one valid encoding.
    const cut = all.byteLength - (all.byteLength % 3);
    yield utf8(toBase64(all.subarray(0, cut)));
    rest = all.slice(cut);
  }
  yield utf8(`${toBase64(rest)}"}}}`);
}

/** Publishes each tarball through the repo (its publish checks apply); a version already there with the same bytes is skipped. */
export async function npmImport(reader: NpmReader, writer: NpmLocal, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  for (const e of index) {
    const name = e.annotations?.[NPM_PACKAGE];
    const version = e.annotations?.[NPM_VERSION];
    if (!name || !version) continue;
    const d = parseDigest(e.digest);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${e.digest}`);
    let manifest: unknown;
    try {
      manifest = JSON.parse(e.annotations?.[NPM_MANIFEST] ?? '{}');
    } catch {
      throw new RegistryError('invalid', `the manifest of ${name}@${version} in index.json is not JSON`);
    }
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new RegistryError('invalid', `the manifest of ${name}@${version} in index.json is not an object`);
    const have = await reader.tarball(name, tarballFile(name, version)).catch(() => null);
    if (have?.kind === 'blob' && have.digest.value === e.digest) {
      report.items++;
      onItem(`${name}@${version} (already there)`);
      continue;
    }
    await writer.put(name, publishBody(name, version, manifest as JsonObject, e.size, blobChunks(blobs, d.digest, `${name}@${version}`)), false);
    report.items++;
    report.blobs++;
    onItem(`${name}@${version}`);
  }
  return report;
}
