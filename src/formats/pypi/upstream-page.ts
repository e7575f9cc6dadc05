import { checkFilename } from './names.ts';
import type { ProjectPage, PyFile } from './page.ts';

/**
 * An upstream project page, HTML (PEP 503, what pypiserver and most mirrors send) or JSON (PEP 691),
 * read into our page model. Every value is taken as text and re-escaped when we render, so hostile
 * attributes upstream stay inert here; links that are not distribution files are left out.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'" };

function unescape(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8}|#39);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
      return n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

const ATTR = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tag.matchAll(ATTR)) {
    const name = (m[1] ?? '').toLowerCase();
    if (!out.has(name)) out.set(name, unescape(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return out;
}

const HEX64 = /^[0-9a-f]{64}$/i;

function hashOf(spec: string | undefined): string | true | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'true' || spec === '') return true;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(spec);
  return m ? (m[1] ?? '').toLowerCase() : true;
}

/** The file a link names, if it is one: the last path segment of its URL, a valid distribution file name. */
function fileOf(url: URL): string | null {
  let name: string;
  try {
    name = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  } catch {
    return null;
  }
  try {
    return checkFilename(name);
  } catch {
    return null;
  }
}

export function parseHtmlPage(html: string, pageUrl: string, project: string): ProjectPage {
  const files: PyFile[] = [];
  const seen = new Set<string>();
  for (const m of html.matchAll(/<a\s([^>]*)>/gi)) {
    const a = attributes(m[1] ?? '');
    const href = a.get('href');
    if (!href) continue;
    let url: URL;
    try {
      url = new URL(href, pageUrl);
    } catch {
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    const filename = fileOf(url);
    if (!filename || seen.has(filename)) continue;
    seen.add(filename);
    const frag = /^#sha256=([0-9a-f]{64})$/i.exec(url.hash)?.[1];
    url.hash = '';
    const f: PyFile = { filename, upstream: url.href };
    if (frag) f.sha256 = frag.toLowerCase();
    const rp = a.get('data-requires-python');
    if (rp !== undefined && rp !== '') f.requiresPython = rp;
    if (a.has('data-yanked')) f.yanked = a.get('data-yanked') || true;
    const meta = hashOf(a.get('data-core-metadata') ?? a.get('data-dist-info-metadata'));
    if (meta !== undefined) {
      f.coreMetadata = meta;
      f.upstreamMetadata = `${url.href}.metadata`;
    }
    const prov = a.get('data-provenance');
    if (prov) {
      try {
        f.provenance = new URL(prov, pageUrl).href;
      } catch {
        // An unusable provenance URL is left out, the file kept.
      }
    }
    files.push(f);
  }
  return { name: project, files };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function parseJsonPage(doc: unknown, pageUrl: string, project: string): ProjectPage | null {
  if (typeof doc !== 'object' || doc === null || !Array.isArray((doc as { files?: unknown }).files)) return null;
  const d = doc as { files: unknown[]; meta?: { '_last-serial'?: unknown } };
  const files: PyFile[] = [];
  const seen = new Set<string>();
  for (const raw of d.files) {
    if (typeof raw !== 'object' || raw === null) continue;
    const r = raw as Record<string, unknown>;
    let url: URL;
    try {
      url = new URL(str(r['url']) ?? '', pageUrl);
    } catch {
      continue;
    }
    const filename = str(r['filename']);
    if (!filename || seen.has(filename) || fileOf(url) === null) continue;
    try {
      checkFilename(filename);
    } catch {
      continue;
    }
    seen.add(filename);
    url.hash = '';
    const f: PyFile = { filename, upstream: url.href };
    const sha = str((r['hashes'] as Record<string, unknown> | undefined)?.['sha256']);
    if (sha && HEX64.test(sha)) f.sha256 = sha.toLowerCase();
    const rp = str(r['requires-python']);
    if (rp) f.requiresPython = rp;
    const y = r['yanked'];
    if (y === true || (typeof y === 'string' && y !== '')) f.yanked = y;
    else if (y === '') f.yanked = true;
    const cm = r['core-metadata'] ?? r['dist-info-metadata'];
    if (cm === true || (typeof cm === 'object' && cm !== null)) {
      const h = str((cm as Record<string, unknown>)['sha256']);
      f.coreMetadata = h && HEX64.test(h) ? h.toLowerCase() : true;
      f.upstreamMetadata = `${url.href}.metadata`;
    }
    if (typeof r['size'] === 'number' && Number.isSafeInteger(r['size']) && r['size'] >= 0) f.size = r['size'];
    const ut = str(r['upload-time']);
    if (ut) f.uploadTime = ut;
    const prov = str(r['provenance']);
    if (prov) f.provenance = prov;
    files.push(f);
  }
  const serial = d.meta?.['_last-serial'];
  return { name: project, files, ...(typeof serial === 'number' ? { lastSerial: serial } : {}) };
}
