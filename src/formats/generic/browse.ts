import type { MetaStore } from '../../storage/meta-store.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { listFolder } from './files.ts';
import { FILE_DOC, encodeSegment, genericLayout } from './paths.ts';
import type { FileDoc } from './paths.ts';

/**
 * The web UI's view of a generic repo's stored files: a path ending in '/' (or '') is a folder,
 * anything else a file with its size, digest and curl/wget lines. Stored content only.
 */
export async function browseGeneric(meta: MetaStore, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..' || s.length > 255)) return null;
  const parent = segments.length > 1 ? `${segments.slice(0, -1).join('/')}/` : '';
  const url = `${origin}/repo/${repo}/${segments.map(encodeSegment).join('/')}`;
  if (path === '' || path.endsWith('/')) {
    const listed = await listFolder(meta, repo, segments, { n: BROWSE_MAX }).catch(() => null);
    if (!listed) return null;
    const page = browsePage(path === '' ? repo : path);
    if (path !== '') page.parent = parent;
    page.more = listed.more;
    for (const e of listed.entries) {
      const child = [...segments, e.name].join('/');
      page.entries.push({ name: e.type === 'folder' ? `${e.name}/` : e.name, path: e.type === 'folder' ? `${child}/` : child, ...(e.size !== undefined ? { size: e.size } : {}), ...(e.sha256 ? { note: `sha256:${e.sha256}` } : {}), ...(e.storedAt ? { at: e.storedAt } : {}) });
    }
    page.commands.push({ label: 'list (JSON)', text: `curl -s '${url}${segments.length > 0 ? '/' : ''}?list'` });
    return page;
  }
  const doc = await meta.get<FileDoc>(`${genericLayout.dir(repo, segments)}/${FILE_DOC}`);
  if (!doc) return null;
  const page = browsePage(path);
  page.parent = parent;
  page.facts.push(['size', String(doc.size)], ['digest', String(doc.digest)], ['stored', new Date(doc.storedAt).toISOString()]);
  page.commands.push({ label: 'curl', text: `curl -fO ${url}` }, { label: 'wget', text: `wget ${url}` });
  return page;
}
