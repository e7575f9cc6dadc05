import { decodeSegment } from '../../storage/key-encoding.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { goLayout } from './layout.ts';
import type { GoFileDoc } from './layout.ts';
import { compareVersions, escapeCase, unescapeCase } from './module.ts';

/** Modules stored under a repo (folders holding `_v`), up to `max`, by walking the module tree. */
async function modules(meta: MetaStore, repo: string, max: number): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, path: string[], depth: number): Promise<void> => {
    if (depth > 64 || out.length >= max) return;
    const names = await meta.list(dir);
    if (names.includes('_v') && path.length > 0) out.push(path.map((p) => unescapeCase(decodeSegment(p))).join('/'));
    // '_v' and '_sumdb' are ours; other names starting with '_' are encoded characters ('!' is _21).
    for (const n of names) if (n !== '_v' && n !== '_sumdb') await walk(`${dir}/${n}`, [...path, n], depth + 1);
  };
  await walk(goLayout.root(repo), [], 0);
  return out.sort();
}

/**
 * The web UI's view of a Go repo: '' = modules, 'module' = its stored versions, 'module@version'
 * = that version's files with the go command lines. Stored content only.
 */
export async function browseGo(meta: MetaStore, repo: string, path: string, origin: string, hosted = false): Promise<BrowsePage | null> {
  const proxy = `GOPROXY=${origin}/repo/${repo}`;
  // A hosted module is in no public checksum database: without GONOSUMDB the go command's
  // verification of it fails (issue 24, 4). Cached public modules keep being verified.
  const env = (module: string): string => (hosted ? `${proxy} GONOSUMDB=${module}` : proxy);
  if (path === '') {
    const page = browsePage(repo);
    const all = await modules(meta, repo, BROWSE_MAX + 1);
    page.more = all.length > BROWSE_MAX;
    page.entries = all.slice(0, BROWSE_MAX).map((m) => ({ name: m, path: m }));
    page.commands.push({ label: 'go', text: `export ${proxy}` });
    return page;
  }
  const at = path.indexOf('@');
  const module = at < 0 ? path : path.slice(0, at);
  if (module.length > 500 || module.includes('..')) return null;
  let names: string[];
  try {
    names = await meta.list(goLayout.versions(repo, module));
  } catch {
    return null;
  }
  const suffix = (ext: string): string[] => names.filter((n) => n.endsWith(`.${ext}`)).map((n) => unescapeCase(decodeSegment(n.slice(0, -ext.length - 1))));
  const versions = [...new Set([...suffix('info'), ...suffix('zip')])].sort((a, b) => compareVersions(b, a));
  if (versions.length === 0) return null;
  if (at < 0) {
    const page = browsePage(module);
    page.parent = '';
    page.more = versions.length > BROWSE_MAX;
    page.entries = versions.slice(0, BROWSE_MAX).map((v) => ({ name: v, path: `${module}@${v}` }));
    page.facts.push(['versions stored', String(versions.length)]);
    page.commands.push({ label: 'go get', text: `${env(module)} go get ${module}@${versions[0] ?? 'latest'}` });
    return page;
  }
  const version = path.slice(at + 1);
  if (!versions.includes(version)) return null;
  const page = browsePage(`${module}@${version}`);
  page.parent = module;
  for (const ext of ['info', 'mod', 'zip']) {
    const doc = await meta.get<GoFileDoc>(goLayout.file(repo, module, version, ext));
    if (doc) page.facts.push([`.${ext}`, `${doc.size} bytes, ${doc.digest}`]);
  }
  const base = `${origin}/repo/${repo}/${escapeCase(module)}/@v/${escapeCase(version)}`;
  page.commands.push({ label: 'go get', text: `${env(module)} go get ${module}@${version}` }, { label: 'curl', text: `curl -s ${base}.info` }, { label: 'zip', text: `curl -fO ${base}.zip` });
  return page;
}
