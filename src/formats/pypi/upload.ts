import { RegistryError } from '../../errors.ts';
import { multipartParts } from '../../http/multipart.ts';
import type { BlobWriter } from '../../storage/blob-store.ts';
import { concat } from '../../util/bytes.ts';

/** Metadata fields of one upload, all of them text (a field a form repeats keeps every value). */
const MAX_FIELDS_BYTES = 8 << 20;
const MAX_PARTS = 400;

/** The metadata fields kept for the JSON API (the rest of a form is read and dropped). */
export const INFO_FIELDS = ['summary', 'description', 'description_content_type', 'author', 'author_email', 'maintainer', 'maintainer_email', 'license', 'license_expression', 'keywords', 'home_page', 'download_url', 'requires_python', 'requires_dist', 'classifiers', 'project_urls', 'platform', 'provides_extra', 'metadata_version'];
const REPEATED = new Set(['requires_dist', 'classifiers', 'project_urls', 'platform', 'provides_extra']);

export interface UploadForm {
  fields: Map<string, string[]>;
  /** The file as the form named it, already in the blob writer (not committed). */
  filename: string;
  writer: BlobWriter;
}

const invalid = (m: string): RegistryError => new RegistryError('invalid', m, { code: 'INVALID_UPLOAD' });

/**
 * A twine / `python -m build` upload (`POST` multipart, `:action=file_upload`), read as it
 * arrives: text fields kept (bounded), the `content` file streamed into a blob writer that hashes
 * it on the way. Field order does not matter. The caller commits or aborts the writer.
 */
export async function readUpload(body: AsyncIterable<Uint8Array>, boundary: string, start: () => Promise<BlobWriter>, maxFileBytes: number): Promise<UploadForm> {
  const fields = new Map<string, string[]>();
  let fieldBytes = 0;
  let file: { filename: string; writer: BlobWriter } | undefined;
  try {
    for await (const part of multipartParts(body, boundary, { maxBytes: maxFileBytes + MAX_FIELDS_BYTES + (1 << 20), maxParts: MAX_PARTS })) {
      if (part.name === 'content' && part.filename !== undefined) {
        if (file) throw invalid('the form carries more than one file');
        const writer = await start();
        file = { filename: part.filename, writer };
        for await (const c of part.body) await writer.write(c);
        continue;
      }
      const chunks: Uint8Array[] = [];
      for await (const c of part.body) {
        fieldBytes += c.byteLength;
        if (fieldBytes > MAX_FIELDS_BYTES) throw new RegistryError('too_large', `the upload's metadata fields exceed ${MAX_FIELDS_BYTES} bytes`, { code: 'TOO_LARGE' });
        // Other file parts (gpg_signature, attestations) are read and dropped.
        if (part.filename === undefined) chunks.push(c);
      }
      if (part.filename !== undefined) continue;
      const text = new TextDecoder('utf-8', { fatal: false }).decode(chunks.length === 1 && chunks[0] ? chunks[0] : concat(chunks));
      const vs = fields.get(part.name) ?? [];
      vs.push(text);
      fields.set(part.name, vs);
    }
  } catch (e) {
    await file?.writer.abort().catch(() => {});
    throw e;
  }
  if (!file) throw invalid('the form has no "content" file');
  return { fields, ...file };
}

/** One value of a field (the first), or undefined. */
export const field = (f: Map<string, string[]>, name: string): string | undefined => f.get(name)?.[0];

/** The JSON API's `info` of an upload: the kept fields, repeated ones as lists, empty ones left out. */
export function infoOf(f: Map<string, string[]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k of INFO_FIELDS) {
    const vs = (f.get(k) ?? []).filter((v) => v !== '' && v !== 'UNKNOWN');
    if (vs.length === 0) continue;
    out[k] = REPEATED.has(k) ? vs : (vs[0] ?? '');
  }
  return out;
}
