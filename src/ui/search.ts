import type { Server } from '../admin/server.ts';
import type { RepoConfig } from '../config/schema.ts';

/** At most this many hits are returned, and each repo's top listing is read once. */
const MAX_HITS = 200;

/**
 * Search by name over what every readable repo stores at its top level (Docker images, generic
 * folders and files, Go modules, Helm charts), through the formats' browse(): a substring match,
 * case-insensitive. Virtual repos are skipped (their members are searched themselves).
 */
export async function findByName(s: Server, repos: RepoConfig[], q: string, origin: string): Promise<{ hits: Array<{ repo: string; name: string; path: string }>; cut: boolean }> {
  const needle = q.toLowerCase();
  const hits: Array<{ repo: string; name: string; path: string }> = [];
  for (const cfg of repos) {
    const repo = s.repos.get(cfg.name);
    if (!repo?.browse || cfg.type === 'virtual') continue;
    const top = await repo.browse('', origin).catch(() => null);
    for (const e of top?.entries ?? []) {
      if (!e.name.toLowerCase().includes(needle)) continue;
      if (hits.length >= MAX_HITS) return { hits, cut: true };
      hits.push({ repo: cfg.name, name: e.name, path: e.path });
    }
  }
  return { hits, cut: false };
}
