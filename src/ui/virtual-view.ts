import type { BrowsePage, FormatRepo } from '../formats/format.ts';

/**
 * A virtual repo's page: its readable members' pages merged, as the virtual URL serves them (the
 * first member that has a name wins it), with copy commands naming the virtual repo, the URL its
 * users have, instead of the member's. Null when no member has anything at `path`.
 */
export async function virtualView(name: string, members: FormatRepo[], path: string, origin: string): Promise<BrowsePage | null> {
  const host = new URL(origin).host;
  let page: BrowsePage | null = null;
  const seen = new Set<string>();
  for (const m of members) {
    const view = m.browse ? await m.browse(path, origin).catch(() => null) : null;
    if (!view) continue;
    const rename = renamer(host, m.name, name);
    if (!page) {
      page = { ...view, entries: [], commands: view.commands.map((c) => ({ ...c, text: rename(c.text) })), facts: [...view.facts, ['from member', m.name]] };
    }
    for (const e of view.entries) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      page.entries.push(m === members[0] ? e : { ...e, note: [e.note, `from ${m.name}`].filter(Boolean).join(' · ') });
    }
    page.more ||= view.more;
  }
  return page;
}

const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Rewrites copy lines from one repo's name to another's where the name is a URL's repo part
 * (`/repo/<name>`, Docker's `<host>/<name>/`) or a client's name for the registry (Cargo's
 * `--registry <name>` and `[registries.<name>]`); with `to` '' a Docker line goes to the host root
 * (the default repo: `<host>/<image>`).
 */
export function renamer(host: string, from: string, to: string): (text: string) => string {
  const inRepoPath = new RegExp(`/repo/${esc(from)}(?=[/\\s'"]|$)`, 'g');
  const inHost = new RegExp(`${esc(host)}/${esc(from)}/`, 'g');
  const asName = new RegExp(`(--registry |\\[registries\\.)${esc(from)}(?=[\\s\\]]|$)`, 'g');
  return (text) => {
    const out = text.replace(inHost, to === '' ? `${host}/` : `${host}/${to}/`).replace(inRepoPath, to === '' ? `/repo/${from}` : `/repo/${to}`);
    return to === '' ? out : out.replace(asName, `$1${to}`);
  };
}

/**
 * The name a user reaches a repo's content by: the first readable virtual repo that has it as a
 * member (what clients are pointed at), and for Docker the host root when that is the default repo.
 */
export function preferredName(name: string, virtuals: Array<{ name: string; members: string[] }>, mayRead: (repo: string) => boolean, defaultRepo: string | undefined): { name: string; root: boolean } {
  const v = virtuals.find((r) => r.members.includes(name) && mayRead(r.name));
  const via = v?.name ?? name;
  return { name: via, root: defaultRepo !== undefined && defaultRepo === via };
}
