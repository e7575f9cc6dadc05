import { access, cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runClient } from './npm.ts';
import type { RunResult } from './npm.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** The Maven distributions and the plugin seed `make setup-maven` puts here (test/helpers/maven-seed.ts). */
export const MAVEN_DIR = join(ROOT, '.build', 'maven');
export const SEED = join(MAVEN_DIR, 'seed');

/** The Maven versions the tests run: the machine's (Debian's 3.8.7) and the pinned distributions. */
export const MAVENS: Array<{ version: string; bin: string }> = [
  { version: '3.8.7', bin: 'mvn' },
  { version: '3.9.16', bin: join(MAVEN_DIR, 'apache-maven-3.9.16', 'bin', 'mvn') },
  { version: '4.0.0-rc-6', bin: join(MAVEN_DIR, 'apache-maven-4.0.0-rc-6', 'bin', 'mvn') },
  // Resolver 2 with prefix filtering on by default: it reads the repository's .meta/prefixes.txt.
  { version: '3.10.0', bin: join(MAVEN_DIR, 'apache-maven-3.10.0', 'bin', 'mvn') },
];

/**
 * Every plugin a `deploy` of a jar project runs, pinned: each Maven version would otherwise pick its
 * own defaults, and the seed (what the upstream tree serves) holds exactly these.
 */
export const PLUGINS: Record<string, string> = {
  'maven-clean-plugin': '3.4.0',
  'maven-resources-plugin': '3.3.1',
  'maven-compiler-plugin': '3.13.0',
  'maven-surefire-plugin': '3.5.2',
  'maven-jar-plugin': '3.4.2',
  'maven-install-plugin': '3.1.3',
  'maven-deploy-plugin': '3.1.3',
  'maven-site-plugin': '3.21.0',
};

const pluginXml = (): string => Object.entries(PLUGINS).map(([a, v]) => `<plugin><groupId>org.apache.maven.plugins</groupId><artifactId>${a}</artifactId><version>${v}</version></plugin>`).join('\n        ');

export interface Project {
  groupId: string;
  artifactId: string;
  version: string;
  /** `g:a:v` coordinates it depends on. */
  deps?: string[];
  /** Child modules (a multi-module build): each gets this parent. */
  modules?: Project[];
  /** Where `mvn deploy` sends releases and snapshots (`id` matches a settings.xml server). */
  deployTo?: { id: string; url: string; snapshots?: string };
  /** Extra bytes in the jar (a resource of this size). */
  padding?: number;
}

function pom(p: Project, parent?: Project): string {
  const deps = (p.deps ?? []).map((d) => {
    const [g, a, v] = d.split(':');
    return `<dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`;
  });
  const dm = p.deployTo ? `<distributionManagement><repository><id>${p.deployTo.id}</id><url>${p.deployTo.url}</url></repository><snapshotRepository><id>${p.deployTo.id}</id><url>${p.deployTo.snapshots ?? p.deployTo.url}</url></snapshotRepository></distributionManagement>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  ${parent ? `<parent><groupId>${parent.groupId}</groupId><artifactId>${parent.artifactId}</artifactId><version>${parent.version}</version></parent>` : ''}
  <groupId>${p.groupId}</groupId>
  <artifactId>${p.artifactId}</artifactId>
  <version>${p.version}</version>
  <packaging>${p.modules ? 'pom' : 'jar'}</packaging>
  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
  ${p.modules ? `<modules>${p.modules.map((m) => `<module>${m.artifactId}</module>`).join('')}</modules>` : ''}
  <dependencies>${deps.join('')}</dependencies>
  <build><pluginManagement><plugins>
        ${pluginXml()}
  </plugins></pluginManagement></build>
  ${dm}
</project>
`;
}

/** Writes a buildable project (a Java class per jar module that names its coordinates). */
export async function writeProject(dir: string, p: Project, parent?: Project): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pom.xml'), pom(p, parent));
  if (p.modules) {
    for (const m of p.modules) await writeProject(join(dir, m.artifactId), { ...m, deployTo: m.deployTo ?? p.deployTo }, p);
    return;
  }
  const pkg = `${p.groupId}.${p.artifactId}`.replace(/[^a-zA-Z0-9.]/g, '_');
  const src = join(dir, 'src', 'main', 'java', ...pkg.split('.'));
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'Info.java'), `package ${pkg};\npublic final class Info { public static final String COORDS = "${p.groupId}:${p.artifactId}:${p.version}"; }\n`);
  if (p.padding) {
    const res = join(dir, 'src', 'main', 'resources');
    await mkdir(res, { recursive: true });
    const b = new Uint8Array(p.padding);
    for (let i = 0; i < b.length; i++) b[i] = (i * 2654435761) >>> 24;
    await writeFile(join(res, 'padding.bin'), b);
  }
}

/** A settings.xml: every repository mirrored to `mirror` (when given), and server credentials. */
export async function writeSettings(path: string, opts: { mirror?: string; servers?: Array<{ id: string; username: string; password: string }> }): Promise<string> {
  const servers = (opts.servers ?? []).map((s) => `<server><id>${s.id}</id><username>${s.username}</username><password>${s.password}</password></server>`).join('');
  const mirror = opts.mirror ? `<mirrors><mirror><id>binaryrepo</id><mirrorOf>*</mirrorOf><url>${opts.mirror}</url></mirror></mirrors>` : '';
  // As a repository manager's docs tell users: central redeclared with snapshots on (the mirror then serves both).
  const repo = (tag: string): string => `<${tag}><id>central</id><url>http://central</url><releases><enabled>true</enabled></releases><snapshots><enabled>true</enabled></snapshots></${tag}>`;
  const profile = opts.mirror ? `<profiles><profile><id>br</id><repositories>${repo('repository')}</repositories><pluginRepositories>${repo('pluginRepository')}</pluginRepositories></profile></profiles><activeProfiles><activeProfile>br</activeProfile></activeProfiles>` : '';
  await writeFile(path, `<settings><servers>${servers}</servers>${mirror}${profile}</settings>\n`);
  return path;
}

/** One mvn run, batch mode, its own local repository and settings (nothing of the machine's ~/.m2 is read). */
export async function mvn(bin: string, args: string[], opts: { cwd: string; home: string; repo: string; settings: string; timeoutMs?: number }): Promise<RunResult> {
  if (bin !== 'mvn') {
    await access(bin).catch(() => {
      throw new Error(`${bin} is missing: run make setup-maven`);
    });
  }
  await mkdir(opts.home, { recursive: true });
  return runClient(bin, ['-B', '-ntp', '-s', opts.settings, `-Dmaven.repo.local=${opts.repo}`, `-Duser.home=${opts.home}`, ...args], { cwd: opts.cwd, home: opts.home, timeoutMs: opts.timeoutMs ?? 240_000, env: { MAVEN_OPTS: '-Xmx512m -XX:TieredStopAtLevel=1', JAVA_HOME: process.env['JAVA_HOME'] ?? '/usr/lib/jvm/java-17-openjdk-amd64' } });
}

/**
 * The seed's files as a remote repository: a local repository minus what only a local one has
 * (resolver bookkeeping, its per-remote metadata), so nginx serves it as Maven Central would.
 */
export async function seedTree(into: string): Promise<void> {
  await access(SEED).catch(() => {
    throw new Error(`${SEED} is missing: run make setup-maven`);
  });
  await cp(SEED, into, { recursive: true, filter: (src) => !/(_remote\.repositories|\.lastUpdated|resolver-status\.properties|maven-metadata-[^/]*\.xml(\.\w+)?)$/.test(src) });
}

/** Every file under a folder, relative, sorted. */
export async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  return out.sort();
}

export const removeTree = (p: string): Promise<void> => rm(p, { recursive: true, force: true });
