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
    // The member's name where it is a URL's repo part: /repo/<member> and <host>/<member>/ (Docker's).
    const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const inUrl = new RegExp(`(/repo/|${esc(host)}/)${esc(m.name)}(?=[/\\s'"]|$)`, 'g');
    const rename = (text: string): string => text.replace(inUrl, `$1${name}`);
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
