import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { newestFirst } from './index-file.ts';
import type { HelmReader } from './reader.ts';

const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/**
 * The web UI's view of a Helm repo, from its index entries (a remote's cached index, refreshed
 * only as its TTL says): '' = charts, 'name' = versions, 'name@version' = one chart version with
 * the helm lines. Chart metadata is the uploader's text and is escaped like everything else.
 */
export async function browseHelm(reader: HelmReader, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const { entries } = await reader.entries();
  const url = `${origin}/repo/${repo}`;
  if (path === '') {
    const page = browsePage(repo);
    const names = [...entries.keys()].sort();
    page.more = names.length > BROWSE_MAX;
    for (const name of names.slice(0, BROWSE_MAX)) {
      const versions = [...(entries.get(name) ?? [])].sort(newestFirst);
      page.entries.push({ name, path: name, note: `${versions.length} versions, newest ${versions[0]?.version ?? ''}` });
    }
    page.commands.push({ label: 'helm', text: `helm repo add ${repo} ${url}` });
    return page;
  }
  const at = path.indexOf('@');
  const name = at < 0 ? path : path.slice(0, at);
  const versions = [...(entries.get(name) ?? [])].sort(newestFirst);
  if (versions.length === 0) return null;
  if (at < 0) {
    const page = browsePage(name);
    page.parent = '';
    page.more = versions.length > BROWSE_MAX;
    page.entries = versions.slice(0, BROWSE_MAX).map((v) => ({ name: v.version, path: `${name}@${v.version}`, note: text(v['description']) }));
    page.commands.push({ label: 'helm', text: `helm repo add ${repo} ${url} && helm install ${name} ${repo}/${name}` });
    return page;
  }
  const v = versions.find((e) => e.version === path.slice(at + 1));
  if (!v) return null;
  const page = browsePage(`${name} ${v.version}`);
  page.parent = name;
  for (const k of ['description', 'appVersion', 'apiVersion', 'type', 'home', 'created', 'digest']) if (v[k] !== undefined) page.facts.push([k, text(v[k])]);
  page.facts.push(['urls', v.urls.join(' ')]);
  page.commands.push(
    { label: 'helm install', text: `helm install ${name} ${repo}/${name} --version ${v.version}` },
    { label: 'helm pull', text: `helm pull ${repo}/${name} --version ${v.version}` },
    { label: 'curl', text: `curl -fO ${url}/${v.urls[0] ?? ''}` },
  );
  return page;
}
