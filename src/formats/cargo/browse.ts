import { isRegistryError } from '../../errors.ts';
import { compareSemver } from '../../util/semver.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import type { IndexEntry } from './index-entry.ts';
import type { CargoReader } from './reader.ts';

async function stored(reader: CargoReader, lower: string): Promise<IndexEntry[] | null> {
  try {
    return (await reader.index(lower, { stored: true })).entries();
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'not_found') return null;
    throw e;
  }
}

const depText = (d: IndexEntry['deps'][number]): string => [d.req, d.kind !== 'normal' ? d.kind : '', d.optional ? 'optional' : '', d.target ? `target ${d.target}` : '', d.package ? `package ${d.package}` : ''].filter(Boolean).join(', ');

/**
 * The web UI's view of a Cargo repo, from stored index files only: '' = crates, '<name>' = its
 * versions (yanked ones marked), '<name>@<version>' = one version with its dependencies and the
 * `cargo add` line.
 */
export async function browseCargo(reader: CargoReader, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const registry = `sparse+${origin}/repo/${repo}/index/`;
  if (path === '') {
    const page = browsePage(repo);
    const names = await reader.names(BROWSE_MAX + 1);
    page.more = names.length > BROWSE_MAX;
    for (const name of names.slice(0, BROWSE_MAX)) page.entries.push({ name, path: name });
    page.commands.push({ label: '.cargo/config.toml', text: `[registries.${repo}]\nindex = "${registry}"` });
    return page;
  }
  const at = path.indexOf('@');
  const lower = (at > 0 ? path.slice(0, at) : path).toLowerCase();
  const entries = await stored(reader, lower);
  if (!entries || entries.length === 0) return null;
  const name = entries[entries.length - 1]?.name ?? lower;
  if (at <= 0) {
    const page = browsePage(name);
    page.parent = '';
    const sorted = [...entries].sort((a, b) => compareSemver(b.vers, a.vers));
    page.more = sorted.length > BROWSE_MAX;
    page.entries = sorted.slice(0, BROWSE_MAX).map((e) => ({ name: e.vers, path: `${lower}@${e.vers}`, note: e.yanked ? 'yanked' : '', ...(e.pubtime ? { at: Date.parse(e.pubtime) } : {}) }));
    page.facts.push(['versions', String(entries.length)]);
    const owners = reader.owners ? await reader.owners(name).catch(() => []) : [];
    if (owners.length > 0) page.facts.push(['owners', owners.join(', ')]);
    page.commands.push({ label: 'cargo add', text: `cargo add ${name} --registry ${repo}` });
    return page;
  }
  const vers = path.slice(at + 1);
  const e = entries.find((x) => x.vers === vers);
  if (!e) return null;
  const page = browsePage(`${name} ${vers}`);
  page.parent = lower;
  page.yanked = e.yanked;
  page.facts.push(['checksum (sha256)', e.cksum], ['yanked', e.yanked ? 'yes' : 'no']);
  if (e.pubtime) page.facts.push(['published', e.pubtime]);
  if (e.rust_version) page.facts.push(['rust-version', e.rust_version]);
  if (e.links) page.facts.push(['links', e.links]);
  const features = { ...e.features, ...(e.features2 ?? {}) };
  if (Object.keys(features).length > 0) page.tables.push({ caption: 'features', head: ['feature', 'enables'], rows: Object.entries(features).map(([f, v]) => [{ text: f }, { text: v.join(', ') }]) });
  if (e.deps.length > 0) page.tables.push({ caption: 'dependencies', head: ['crate', 'requirement'], rows: e.deps.map((d) => [{ text: d.name, path: (d.package ?? d.name).toLowerCase() }, { text: depText(d) }]) });
  page.commands.push({ label: 'cargo add', text: `cargo add ${name}@=${vers} --registry ${repo}` }, { label: 'curl', text: `curl -fO ${origin}/repo/${repo}/api/v1/crates/${name}/${vers}/download` });
  return page;
}
