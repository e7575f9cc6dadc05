import { comparePep440 } from '../../util/pep440.ts';
import { parseFilename } from './names.ts';

/** One file of a project as the simple API lists it (PEP 503, 592, 658/714, 691, 700, 740). */
export interface PyFile {
  filename: string;
  /** hex; absent when the upstream gave none. */
  sha256?: string;
  size?: number;
  requiresPython?: string;
  /** PEP 592: true, or the reason. */
  yanked?: string | true;
  uploadTime?: string;
  /** PEP 658: the `.metadata` file's sha256 (hex), or true when it exists with no hash known. */
  coreMetadata?: string | true;
  /** PEP 740: the provenance URL, passed through. */
  provenance?: string;
  /** A remote's: where the file is upstream (never rendered). */
  upstream?: string;
  /** A remote's: where its `.metadata` is upstream, when the upstream offers one. */
  upstreamMetadata?: string;
}

export interface ProjectPage {
  /** The normalised name. */
  name: string;
  files: PyFile[];
  lastSerial?: number;
}

export type PageKind = 'json' | 'html';
export const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
export const HTML_TYPE = 'application/vnd.pypi.simple.v1+html';

/**
 * PEP 691's negotiation: the highest-q type we serve (JSON on a tie, as the newer form), text/html
 * when the client names nothing we serve (browsers, old tools). The Content-Type names the form sent.
 */
export function negotiate(accept: string | null): { kind: PageKind; type: string } {
  let best: { kind: PageKind; type: string; q: number } | null = null;
  for (const part of (accept ?? '').split(',')) {
    const [t = '', ...params] = part.trim().split(';');
    const type = t.trim().toLowerCase();
    const qs = params.map((x) => /^\s*q=([\d.]+)\s*$/i.exec(x)?.[1]).find((x) => x !== undefined);
    const q = qs === undefined ? 1 : Number(qs);
    const served: { kind: PageKind; type: string } | null =
      type === JSON_TYPE || type === 'application/vnd.pypi.simple.latest+json'
        ? { kind: 'json', type: JSON_TYPE }
        : type === HTML_TYPE || type === 'application/vnd.pypi.simple.latest+html'
          ? { kind: 'html', type: HTML_TYPE }
          : type === 'text/html' || type === '*/*' || type === 'text/*'
            ? { kind: 'html', type: 'text/html' }
            : null;
    if (!served || !(q > 0)) continue;
    if (!best || q > best.q || (q === best.q && served.kind === 'json' && best.kind !== 'json')) best = { ...served, q };
  }
  return best ?? { kind: 'html', type: 'text/html' };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Where a page links a file: relative to the page (`/simple/<p>/`), so any host or prefix the client used works. */
export const fileHref = (project: string, file: string): string => `../../files/${project}/${encodeURIComponent(file)}`;

/** The versions of a page's files, PEP 440 order (PEP 700's `versions`). */
export function versionsOf(page: ProjectPage): string[] {
  const vs = new Set<string>();
  for (const f of page.files) {
    try {
      vs.add(parseFilename(f.filename).version);
    } catch {
      // A file name the upstream accepted and we cannot parse still lists; it names no version.
    }
  }
  return [...vs].sort(comparePep440);
}

export function renderPage(page: ProjectPage, kind: PageKind): Uint8Array {
  const enc = new TextEncoder();
  if (kind === 'json') {
    const sized = page.files.every((f) => f.size !== undefined);
    const files = page.files.map((f) => {
      const o: Record<string, unknown> = { filename: f.filename, url: fileHref(page.name, f.filename), hashes: f.sha256 ? { sha256: f.sha256 } : {} };
      if (f.requiresPython !== undefined) o['requires-python'] = f.requiresPython;
      const meta = f.coreMetadata === undefined ? false : f.coreMetadata === true ? true : { sha256: f.coreMetadata };
      o['core-metadata'] = meta;
      o['dist-info-metadata'] = meta;
      o['yanked'] = f.yanked ?? false;
      if (f.size !== undefined) o['size'] = f.size;
      if (f.uploadTime !== undefined) o['upload-time'] = f.uploadTime;
      if (f.provenance !== undefined) o['provenance'] = f.provenance;
      return o;
    });
    // PEP 700 makes `size` required in 1.1: a page with a size unknown says 1.0 (versions stay: extra keys are allowed).
    const meta: Record<string, unknown> = { 'api-version': sized ? '1.1' : '1.0' };
    if (page.lastSerial !== undefined) meta['_last-serial'] = page.lastSerial;
    return enc.encode(JSON.stringify({ meta, name: page.name, versions: versionsOf(page), files }));
  }
  const links = page.files.map((f) => {
    let a = `<a href="${esc(fileHref(page.name, f.filename))}${f.sha256 ? `#sha256=${f.sha256}` : ''}"`;
    if (f.requiresPython !== undefined) a += ` data-requires-python="${esc(f.requiresPython)}"`;
    if (f.coreMetadata !== undefined) {
      const v = f.coreMetadata === true ? 'true' : `sha256=${f.coreMetadata}`;
      a += ` data-dist-info-metadata="${v}" data-core-metadata="${v}"`;
    }
    if (f.yanked !== undefined) a += ` data-yanked="${f.yanked === true ? '' : esc(f.yanked)}"`;
    if (f.provenance !== undefined) a += ` data-provenance="${esc(f.provenance)}"`;
    return `${a}>${esc(f.filename)}</a><br>`;
  });
  return enc.encode(`<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1"><title>Links for ${esc(page.name)}</title></head><body><h1>Links for ${esc(page.name)}</h1>\n${links.join('\n')}\n</body></html>\n`);
}

/** The `/simple/` index: every project's normalised name. */
export function renderIndex(projects: string[], kind: PageKind): Uint8Array {
  const enc = new TextEncoder();
  if (kind === 'json') return enc.encode(JSON.stringify({ meta: { 'api-version': '1.1' }, projects: projects.map((name) => ({ name })) }));
  return enc.encode(`<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1"><title>Simple index</title></head><body>\n${projects.map((p) => `<a href="${esc(p)}/">${esc(p)}</a><br>`).join('\n')}\n</body></html>\n`);
}
