import { RegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { BundleFile, BundleIndexEntry, BundleReport } from '../format.ts';
import { mustExist, parseManifest } from './manifest.ts';
import { isValidName, isValidTag } from './reference.ts';
import { parseImageRef } from './warm.ts';
import type { DockerReader, DockerWriter } from './repo.ts';

/** The annotation an OCI image layout uses for a tag; ours adds the image name. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const IMAGE_NAME = 'io.binaryrepo.image';

/**
 * What `binaryrepo export` writes for Docker references: an OCI image layout (blobs/sha256/...,
 * and one index.json entry per reference). Manifests and blobs come through the repo's reader, so
 * a remote repo fetches what it has not cached yet (and an offline one fails clearly).
 */
export async function dockerExport(reader: DockerReader, blobs: BlobStore, refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }> {
  const files = new Map<string, BundleFile>();
  const index: BundleIndexEntry[] = [];
  const addBlob = async (image: string, digestText: string): Promise<void> => {
    if (files.has(digestText)) return;
    const d = parseDigest(digestText);
    if (!d.ok) throw new RegistryError('invalid', `bad digest ${digestText}`);
    const b = await reader.blob(image, d.digest, false);
    if (b.source === 'fill') await b.fill.done;
    const st = await blobs.stat(d.digest);
    if (!st) throw new RegistryError('not_found', `blob ${digestText} of ${image} is not in the store`);
    files.set(digestText, { digest: digestText, size: st.size });
  };
  const visit = async (image: string, ref: Parameters<DockerReader['manifest']>[1]): Promise<{ digest: string; mediaType: string; size: number }> => {
    const m = await reader.manifest(image, ref);
    const parsed = parseManifest(m.bytes, m.mediaType);
    for (const child of parsed.manifests) await visit(image, { kind: 'digest', digest: child.digest });
    for (const b of parsed.blobs.filter(mustExist)) await addBlob(image, b.digest.value);
    // The manifest's own bytes: kept in the store by the read above (a virtual repo's member, a
    // cache); put them there if a reader served them from elsewhere.
    const md = parseDigest(m.digest);
    if (!md.ok) throw new RegistryError('invalid', `bad manifest digest ${m.digest}`);
    if (!(await blobs.stat(md.digest))) await blobs.putBytes(m.bytes, { expectedDigest: md.digest });
    files.set(m.digest, { digest: m.digest, size: m.bytes.byteLength });
    return { digest: m.digest, mediaType: m.mediaType, size: m.bytes.byteLength };
  };
  for (const text of refs) {
    const parsed = parseImageRef(text);
    if (!parsed) throw new RegistryError('invalid', `not an image reference: ${text}`);
    const top = await visit(parsed.image, parsed.ref);
    const name = parsed.ref.kind === 'tag' ? parsed.ref.tag : '';
    index.push({ ...top, annotations: { [IMAGE_NAME]: parsed.image, ...(name ? { [REF_NAME]: name } : {}) } });
  }
  return { files: [...files.values()], index };
}

/**
 * `binaryrepo import` into a local Docker repo, after the core stored (and verified) every blob of
 * the bundle: each index entry's manifests (children first) are linked and pushed as a client
 * would, so the repo's own checks (blobs present, media types, immutable tags) apply. Importing
 * the same bundle again changes nothing.
 */
export async function dockerImport(writer: DockerWriter, blobs: BlobStore, index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport> {
  const report: BundleReport = { items: 0, blobs: 0 };
  const push = async (image: string, digestText: string, tag: string | undefined): Promise<void> => {
    const d = parseDigest(digestText);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${digestText}`);
    const bytes = await blobs.readAll(d.digest, writer.manifestMaxBytes);
    if (!bytes) throw new RegistryError('not_found', `the bundle lacks manifest ${digestText}`);
    const m = parseManifest(bytes, null);
    for (const child of m.manifests) await push(image, child.digest.value, undefined);
    for (const b of m.blobs.filter(mustExist)) {
      if (!(await writer.mount(image, b.digest))) throw new RegistryError('not_found', `the bundle lacks blob ${b.digest.value} of ${image}`);
      report.blobs++;
    }
    await writer.putManifest(image, tag ? { kind: 'tag', tag } : { kind: 'digest', digest: d.digest }, bytes, m.mediaType);
  };
  // Every name, tag, manifest and blob checked before anything is written: an import that fails
  // leaves no partial image, and never a name the registry API could not reach (`ok/_tags`, `UPPER`).
  const check = async (image: string, digestText: string, depth: number): Promise<void> => {
    const d = parseDigest(digestText);
    if (!d.ok) throw new RegistryError('invalid', `bad digest in index.json: ${digestText}`);
    if (depth > 8) throw new RegistryError('invalid', `manifest ${digestText} nests too deep`);
    const bytes = await blobs.readAll(d.digest, writer.manifestMaxBytes);
    if (!bytes) throw new RegistryError('not_found', `the bundle lacks manifest ${digestText}`);
    const m = parseManifest(bytes, null);
    for (const child of m.manifests) await check(image, child.digest.value, depth + 1);
    for (const b of m.blobs.filter(mustExist)) if (!(await blobs.stat(b.digest))) throw new RegistryError('not_found', `the bundle lacks blob ${b.digest.value} of ${image}`);
  };
  for (const e of index) {
    const image = e.annotations?.[IMAGE_NAME];
    if (!image) continue;
    const tag = e.annotations?.[REF_NAME];
    if (!isValidName(image)) throw new RegistryError('invalid', `not an image name: ${JSON.stringify(image)} (lower-case components of letters, digits and separators)`);
    if (tag !== undefined && !isValidTag(tag)) throw new RegistryError('invalid', `not a tag: ${JSON.stringify(tag)}`);
    await check(image, e.digest, 0);
  }
  for (const e of index) {
    const image = e.annotations?.[IMAGE_NAME];
    if (!image) continue; // an entry of another format, or a layout without our names
    const tag = e.annotations?.[REF_NAME];
    await push(image, e.digest, tag);
    report.items++;
    onItem(`${image}${tag ? `:${tag}` : `@${e.digest}`}`);
  }
  return report;
}
