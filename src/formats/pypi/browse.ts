import { isRegistryError } from '../../errors.ts';
import { comparePep440, sameVersion } from '../../util/pep440.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { parseFilename } from './names.ts';
import type { ProjectPage } from './page.ts';
import type { PypiReader } from './reader.ts';

async function stored(reader: PypiReader, project: string): Promise<ProjectPage | null> {
  try {
    return await (await reader.page(project, { stored: true })).page();
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'not_found') return null;
    throw e;
  }
}

const versionOf = (file: string): string | null => {
  try {
    return parseFilename(file).version;
  } catch {
    return null;
  }
};

/**
 * The web UI's view of a PyPI repo, from stored pages only: '' = projects, '<project>' = its
 * versions newest first, '<project>==<version>' = that version's files with pip and uv lines.
 */
export async function browsePypi(reader: PypiReader, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const index = `${origin}/repo/${repo}/simple/`;
  if (path === '') {
    const page = browsePage(repo);
    const names = await reader.projects(BROWSE_MAX + 1);
    page.more = names.length > BROWSE_MAX;
    for (const name of names.slice(0, BROWSE_MAX)) page.entries.push({ name, path: name });
    page.commands.push({ label: 'pip', text: `pip config set global.index-url ${index}` }, { label: 'uv', text: `export UV_INDEX_URL=${index}` });
    return page;
  }
  const at = path.indexOf('==');
  const project = at > 0 ? path.slice(0, at) : path;
  const p = await stored(reader, project);
  if (!p) return null;
  const versions = [...new Set(p.files.map((f) => versionOf(f.filename)).filter((v): v is string => v !== null))].sort(comparePep440).reverse();
  if (at <= 0) {
    const page = browsePage(project);
    page.parent = '';
    page.more = versions.length > BROWSE_MAX;
    page.entries = versions.slice(0, BROWSE_MAX).map((v) => {
      const files = p.files.filter((f) => versionOf(f.filename) === v);
      const yanked = files.length > 0 && files.every((f) => f.yanked !== undefined);
      return { name: v, path: `${project}==${v}`, note: `${files.length} files${yanked ? ', yanked' : ''}` };
    });
    page.commands.push({ label: 'pip', text: `pip install ${project} --index-url ${index}` }, { label: 'uv', text: `uv add ${project} --index ${index}` });
    return page;
  }
  const version = path.slice(at + 2);
  const files = p.files.filter((f) => {
    const v = versionOf(f.filename);
    return v !== null && sameVersion(v, version);
  });
  if (files.length === 0) return null;
  const page = browsePage(`${project} ${version}`);
  page.parent = project;
  page.yanked = files.every((f) => f.yanked !== undefined);
  page.tables.push({
    caption: 'files',
    head: ['file', 'size', 'sha256', 'requires-python', 'yanked'],
    rows: files.map((f) => [{ text: f.filename }, { text: f.size === undefined ? '' : String(f.size) }, { text: f.sha256 ?? '' }, { text: f.requiresPython ?? '' }, { text: f.yanked === undefined ? '' : f.yanked === true ? 'yes' : f.yanked }]),
  });
  page.commands.push(
    { label: 'pip', text: `pip install ${project}==${version} --index-url ${index}` },
    { label: 'uv', text: `uv pip install ${project}==${version} --index-url ${index}` },
    ...files.slice(0, 4).map((f) => ({ label: 'curl', text: `curl -fO ${origin}/repo/${repo}/files/${project}/${encodeURIComponent(f.filename)}` })),
  );
  return page;
}
