import { compareSemver } from '../../util/semver.ts';
import { isRegistryError } from '../../errors.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { withBase } from './packument.ts';
import type { JsonObject, Packument } from './packument.ts';
import type { NpmReader } from './reader.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

async function stored(reader: NpmReader, name: string, base: string): Promise<Packument | null> {
  try {
    const a = await reader.packument(name, { stored: true });
    return JSON.parse(new TextDecoder().decode(withBase(await a.full(), base))) as Packument;
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'not_found') return null;
    throw e;
  }
}

/**
 * The web UI's view of an npm repo, from stored documents only: '' = packages, '<name>' = its
 * versions and dist-tags with the readme, '<name>@<version>' = one version with the npm lines.
 */
export async function browseNpm(reader: NpmReader, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const url = `${origin}/repo/${repo}/`;
  if (path === '') {
    const page = browsePage(repo);
    const names = await reader.names(BROWSE_MAX + 1);
    page.more = names.length > BROWSE_MAX;
    for (const name of names.slice(0, BROWSE_MAX)) page.entries.push({ name, path: name });
    page.commands.push({ label: 'npm', text: `npm config set registry ${url}` });
    return page;
  }
  const at = path.lastIndexOf('@');
  const name = at > 0 ? path.slice(0, at) : path;
  const p = await stored(reader, name, `${origin}/repo/${repo}`);
  if (!p) return null;
  const versions = Object.keys(p.versions).sort(compareSemver).reverse();
  if (at <= 0) {
    const page = browsePage(name);
    page.parent = '';
    page.more = versions.length > BROWSE_MAX;
    page.entries = versions.slice(0, BROWSE_MAX).map((v) => ({ name: v, path: `${name}@${v}`, note: text(p.versions[v]?.['deprecated'] ? `deprecated: ${text(p.versions[v]?.['deprecated'])}` : ''), ...(p.time[v] ? { at: Date.parse(p.time[v] ?? '') } : {}) }));
    for (const k of ['description', 'license', 'homepage']) if (p[k] !== undefined) page.facts.push([k, text(p[k])]);
    page.tables.push({ caption: 'dist-tags', head: ['tag', 'version'], rows: Object.entries(p['dist-tags']).map(([t, v]) => [{ text: t }, { text: v, path: `${name}@${v}` }]) });
    if (typeof p['readme'] === 'string' && p['readme'] !== '') page.readme = p['readme'];
    page.commands.push({ label: 'npm install', text: `npm install ${name} --registry ${url}` });
    return page;
  }
  const version = path.slice(at + 1);
  const m: JsonObject | undefined = p.versions[version];
  if (!m) return null;
  const page = browsePage(`${name} ${version}`);
  page.parent = name;
  const dist = (m['dist'] ?? {}) as JsonObject;
  for (const k of ['description', 'license', 'deprecated']) if (m[k] !== undefined) page.facts.push([k, text(m[k])]);
  if (p.time[version]) page.facts.push(['published', text(p.time[version])]);
  for (const k of ['integrity', 'shasum', 'unpackedSize', 'fileCount']) if (dist[k] !== undefined) page.facts.push([k, text(dist[k])]);
  const deps = (m['dependencies'] ?? {}) as Record<string, unknown>;
  if (Object.keys(deps).length > 0) page.tables.push({ caption: 'dependencies', head: ['package', 'range'], rows: Object.entries(deps).map(([d, r]) => [{ text: d, path: d }, { text: text(r) }]) });
  page.commands.push(
    { label: 'npm install', text: `npm install ${name}@${version} --registry ${url}` },
    { label: 'curl', text: `curl -fO ${text(dist['tarball'])}` },
  );
  return page;
}
