/**
 * The few S3 XML answers the driver reads. Not a general XML parser: S3's answers are flat, their
 * element names fixed, and the only escapes in text are the five predefined entities and numeric
 * references.
 */
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? '';
  });
}

/** Text of the first `<tag>` in xml, unescaped; undefined when absent. */
export function xmlText(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1] ?? '') : undefined;
}

/** Every `<tag>...</tag>` block's inner text. */
function blocks(xml: string, tag: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
  for (let m = re.exec(xml); m; m = re.exec(xml)) out.push(m[1] ?? '');
  return out;
}

export interface ListedObject {
  name: string;
  size: number;
  mtimeMs: number;
}

export interface Listing {
  objects: ListedObject[];
  /** Common prefixes (folders), with their trailing delimiter. */
  prefixes: string[];
  next: string | undefined;
}

export function parseListing(xml: string): Listing {
  const objects = blocks(xml, 'Contents').map((b) => ({
    name: xmlText(b, 'Key') ?? '',
    size: Number(xmlText(b, 'Size') ?? '0'),
    mtimeMs: Date.parse(xmlText(b, 'LastModified') ?? '') || 0,
  }));
  const prefixes = blocks(xml, 'CommonPrefixes').map((b) => xmlText(b, 'Prefix') ?? '');
  const truncated = xmlText(xml, 'IsTruncated') === 'true';
  return { objects, prefixes, next: truncated ? xmlText(xml, 'NextContinuationToken') : undefined };
}

export interface PendingUpload {
  key: string;
  uploadId: string;
  initiatedMs: number;
}

export function parseUploads(xml: string): PendingUpload[] {
  return blocks(xml, 'Upload').map((b) => ({
    key: xmlText(b, 'Key') ?? '',
    uploadId: xmlText(b, 'UploadId') ?? '',
    initiatedMs: Date.parse(xmlText(b, 'Initiated') ?? '') || 0,
  }));
}
