import { decodeSegment } from '../../storage/key-encoding.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { compareMavenVersions, isSnapshotVersion } from '../../util/maven-version.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowsePage } from '../format.ts';
import { FILE_DOC, mavenLayout } from './layout.ts';
import type { FileDoc } from './layout.ts';

/** A stored tree the UI may show: a hosted or remote repo's own files (a virtual shows its members'). */
export interface MavenTree {
  meta: MetaStore;
  repo: string;
}

/**
 * The web UI's view of a Maven repo, from stored files only: folders (groups → artifacts →
 * versions) and files with their size and checksums; a version folder gets its `<dependency>`
 * snippet and the mvn line that fetches it.
 */
export async function browseMaven(trees: MavenTree[], repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const segs = path.split('/').filter((s) => s !== '');
  const page = browsePage(segs.length ? segs[segs.length - 1] ?? repo : repo);
  if (segs.length) page.parent = segs.slice(0, -1).join('/');
  const names = new Set<string>();
  let file: FileDoc | null = null;
  for (const t of trees) {
    for (const e of await t.meta.list(mavenLayout.dir(t.repo, segs))) {
      if (e === FILE_DOC) file ??= await t.meta.get<FileDoc>(`${mavenLayout.dir(t.repo, segs)}/${FILE_DOC}`);
      else names.add(decodeSegment(e));
    }
  }
  if (file) {
    page.facts.push(['Size', `${file.size} bytes`], ['SHA-256', file.digest.slice(7)], ...Object.entries(file.sums ?? {}).map(([k, v]): [string, string] => [k.toUpperCase(), v]));
    page.commands.push({ label: 'curl', text: `curl -fLO ${origin}/repo/${repo}/${segs.join('/')}` });
    return page;
  }
  if (names.size === 0 && segs.length > 0) return null;
  // An artifact's folder lists versions: newest first, in Maven's order (1.10 after 1.9).
  const all = [...names];
  const versions = all.length > 0 && all.every((n) => /^\d/.test(n));
  const sorted = versions ? all.sort((a, b) => compareMavenVersions(b, a)) : all.sort();
  page.more = sorted.length > BROWSE_MAX;
  for (const n of sorted.slice(0, BROWSE_MAX)) page.entries.push({ name: n, path: [...segs, n].join('/') });
  const v = segs[segs.length - 1] ?? '';
  const a = segs[segs.length - 2] ?? '';
  const base = `${a}-${isSnapshotVersion(v) ? v.slice(0, -'SNAPSHOT'.length) : v}`;
  if (segs.length >= 3 && sorted.some((n) => n.startsWith(base))) {
    const g = segs.slice(0, -2).join('.');
    page.facts.push(['Coordinates', `${g}:${a}:${v}`]);
    page.commands.push(
      { label: 'pom.xml', text: `<dependency>\n  <groupId>${g}</groupId>\n  <artifactId>${a}</artifactId>\n  <version>${v}</version>\n</dependency>` },
      { label: 'mvn', text: `mvn dependency:get -DremoteRepositories=${origin}/repo/${repo} -Dartifact=${g}:${a}:${v}` },
    );
  } else if (segs.length === 0) page.commands.push({ label: 'settings.xml', text: `<mirror>\n  <id>${repo}</id>\n  <mirrorOf>*</mirrorOf>\n  <url>${origin}/repo/${repo}</url>\n</mirror>` });
  return page;
}
