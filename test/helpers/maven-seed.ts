// `make setup-maven`: the pinned Maven distributions (from the Maven repository, fetched by the
// machine's mvn) and the plugin seed the Maven tests' upstream tree serves: every plugin a `deploy`
// of the tests' projects needs, as each Maven version resolves it. Run once, online; the tests then
// run on loopback only.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAVENS, MAVEN_DIR, SEED, writeProject, writeSettings } from './maven.ts';

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', env: { ...process.env, MAVEN_OPTS: '-Xmx512m' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
}

await mkdir(MAVEN_DIR, { recursive: true });
const work = await mkdtemp(join(tmpdir(), 'maven-seed-'));
try {
  for (const m of MAVENS) {
    if (m.bin === 'mvn' || existsSync(m.bin)) continue;
    run('mvn', ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=org.apache.maven:apache-maven:${m.version}:tar.gz:bin`, `-DoutputDirectory=${work}`, `-Dmaven.repo.local=${join(work, 'dl-repo')}`], work);
    run('tar', ['-xzf', join(work, `apache-maven-${m.version}-bin.tar.gz`), '-C', MAVEN_DIR], work);
  }
  await rm(SEED, { recursive: true, force: true });
  const settings = await writeSettings(join(work, 'settings.xml'), {});
  const project = { groupId: 'org.example.seed', artifactId: 'seed', version: '1.0-SNAPSHOT', modules: [{ groupId: 'org.example.seed', artifactId: 'one', version: '1.0-SNAPSHOT', padding: 10 }], deployTo: { id: 'seed', url: `file://${join(work, 'deployed')}` } };
  await writeProject(join(work, 'p'), project);
  for (const m of MAVENS) run(m.bin, ['-B', '-ntp', '-s', settings, `-Dmaven.repo.local=${SEED}`, 'clean', 'deploy'], join(work, 'p'));
  // The seed holds plugins only: what the project itself installed goes.
  await rm(join(SEED, 'org', 'example'), { recursive: true, force: true });
} finally {
  await rm(work, { recursive: true, force: true });
}
