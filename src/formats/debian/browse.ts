import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import type { DebLocal } from './local.ts';
import type { DebReader } from './reader.ts';
import { compareVersions } from './version.ts';

function sourcesLine(origin: string, repo: string, suite: string, components: string[], signed: boolean): string {
  const base = `${origin}/repo/${repo}`;
  const key = signed ? `curl -fsSL ${base}/key.asc | sudo tee /etc/apt/keyrings/${repo}.asc >/dev/null\n` : '';
  return `${key}echo "deb [${signed ? `signed-by=/etc/apt/keyrings/${repo}.asc` : 'trusted=no'}] ${base} ${suite} ${components.join(' ')}" | sudo tee /etc/apt/sources.list.d/${repo}.list`;
}

/**
 * The web UI's view of a Debian repo, from stored content only: '' = suites, '<suite>' = its
 * packages (a hosted suite) with the sources.list line and key, '<suite>/<package>' = its
 * versions by component and architecture.
 */
export async function browseDebian(reader: DebReader, local: DebLocal | undefined, repo: string, path: string, origin: string, components: string[]): Promise<BrowsePage | null> {
  const suites = await reader.suites();
  const signed = reader.type !== 'remote';
  if (path === '') {
    const page = browsePage(repo);
    page.more = suites.length > BROWSE_MAX;
    page.entries = suites.slice(0, BROWSE_MAX).map((s) => ({ name: s, path: s }));
    if (signed) page.commands.push({ label: 'signing key', text: `${origin}/repo/${repo}/key.asc` });
    if (local) page.commands.push({ label: 'upload', text: `curl -fT ./pkg.deb ${origin}/repo/${repo}/upload/<suite>/${components[0] ?? 'main'}/` });
    return page;
  }
  const [suite = '', name] = path.split('/');
  if (!suites.includes(suite)) return null;
  const rec = local ? (await local.record(suite))?.value : undefined;
  if (name === undefined) {
    const page = browsePage(`${repo} ${suite}`);
    page.parent = '';
    page.commands.push({ label: 'sources.list', text: sourcesLine(origin, repo, suite, components, signed) });
    if (rec) {
      const names = [...new Set(rec.packages.map((p) => p.name))].sort();
      page.more = names.length > BROWSE_MAX;
      page.entries = names.slice(0, BROWSE_MAX).map((n) => ({ name: n, path: `${suite}/${n}` }));
      page.facts.push(['packages', String(names.length)], ['files', String(rec.packages.length)], ['changed', new Date(rec.changed).toISOString()]);
    } else page.facts.push(['packages', 'listed in the suite index (not browsed for cached or virtual suites)']);
    return page;
  }
  const versions = (rec?.packages ?? []).filter((p) => p.name === name).sort((a, b) => compareVersions(b.version, a.version));
  if (versions.length === 0) return null;
  const page = browsePage(`${name} (${suite})`);
  page.parent = suite;
  page.tables.push({
    caption: 'versions',
    head: ['version', 'architecture', 'component', 'size', 'sha256', 'uploaded by'],
    rows: versions.map((p) => [{ text: p.version }, { text: p.arch }, { text: p.component }, { text: String(p.deb.size) }, { text: p.deb.digest.replace(/^sha256:/, '') }, { text: p.by ?? '' }]),
  });
  const desc = versions[0]?.stanza.find(([k]) => k.toLowerCase() === 'description')?.[1];
  if (desc) page.facts.push(['description', desc.split('\n')[0] ?? '']);
  page.commands.push({ label: 'apt', text: `sudo apt-get install ${name}` }, { label: 'curl', text: `curl -fO ${origin}/repo/${repo}/${versions[0]?.filename ?? ''}` });
  return page;
}
