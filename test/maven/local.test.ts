import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { MAVENS, mvn, seedTree, writeProject, writeSettings } from '../helpers/maven.ts';
import type { Project } from '../helpers/maven.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const versionsOf = (xml: string): string[] => [...xml.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1] ?? '');
const [MVN38, MVN39, MVN4, MVN310] = MAVENS as [(typeof MAVENS)[0], (typeof MAVENS)[0], (typeof MAVENS)[0], (typeof MAVENS)[0]];

// Issue 27: hosted Maven repositories: mvn deploy of releases and snapshots, metadata we write, bad input.
describe('Maven local repos: mvn deploy, snapshots, metadata', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  let token = '';
  let runs = 0;
  const url = (repo: string, path = ''): string => `${br.url}/repo/${repo}${path}`;
  const auth = { authorization: basic('writer') };

  async function run(bin: string, goal: string, p: Project, extra: string[] = []): Promise<{ code: number; out: string; dir: string; repo: string }> {
    runs++;
    const dir = join(work.path, `p-${runs}`);
    await writeProject(dir, p);
    const settings = await writeSettings(join(work.path, `s-${runs}.xml`), { mirror: url('maven'), servers: [{ id: 'corp', username: 'ci', password: token }] });
    const repo = join(work.path, `m2-${runs}`);
    const r = await mvn(bin, [...extra, goal], { cwd: dir, home: join(work.path, `h-${runs}`), repo, settings });
    return { code: r.code, out: r.stdout + r.stderr, dir, repo };
  }

  before(async () => {
    work = await tempDir('maven-local-');
    await seedTree(join(work.path, 'up'));
    // The upstream publishes a prefix file, as Maven Central does: its first two levels.
    const top = await readdir(join(work.path, 'up'));
    const prefixes: string[] = [];
    for (const a of top) for (const b of await readdir(join(work.path, 'up', a))) prefixes.push(`/${a}/${b}`);
    await mkdir(join(work.path, 'up', '.meta'), { recursive: true });
    await writeFile(join(work.path, 'up', '.meta', 'prefixes.txt'), `## repository-prefixes/2.0\n${prefixes.join('\n')}\n`);
    up = await startStaticNginx(join(work.path, 'up'), work.path);
    const perms = { read: ['anonymous'], write: ['writer'], delete: ['writer'] };
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'central', format: 'maven', type: 'remote', upstream: { url: up.url }, permissions: { read: ['anonymous'] } },
          { name: 'releases', format: 'maven', type: 'local', versionPolicy: 'release', permissions: perms },
          { name: 'snapshots', format: 'maven', type: 'local', versionPolicy: 'snapshot', keepSnapshots: 2, permissions: perms },
          { name: 'small', format: 'maven', type: 'local', maxFileBytes: 2048, permissions: perms },
          { name: 'maven', format: 'maven', type: 'virtual', members: ['releases', 'snapshots', 'central'], deployTo: 'releases', permissions: perms },
        ],
      },
    });
    const res = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci deploy', repos: ['releases', 'snapshots', 'maven'], actions: ['read', 'write'], expiresInDays: 1 }) });
    const made = await res.text();
    assert.equal(res.status, 201, made);
    token = (JSON.parse(made) as { token: string }).token;
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  const svc: Project = {
    groupId: 'org.corp',
    artifactId: 'svc',
    version: '1.0',
    modules: [
      { groupId: 'org.corp', artifactId: 'svc-api', version: '1.0' },
      { groupId: 'org.corp', artifactId: 'svc-impl', version: '1.0', deps: ['org.corp:svc-api:1.0'], padding: 100_000 },
    ],
    deployTo: { id: 'corp', url: '' },
  };

  it('mvn 3.9 deploy of a multi-module release through the virtual (deployTo), with an access token; metadata and checksums are ours', async () => {
    const r = await run(MVN39.bin, 'deploy', { ...svc, deployTo: { id: 'corp', url: url('maven') } });
    assert.equal(r.code, 0, r.out.slice(-4000));
    const jar = new Uint8Array(await readFile(join(r.dir, 'svc-impl', 'target', 'svc-impl-1.0.jar')));
    const got = await fetch(url('releases', '/org/corp/svc-impl/1.0/svc-impl-1.0.jar'));
    assert.equal(got.status, 200);
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), jar);
    assert.equal(got.headers.get('x-checksum-sha1'), sha1(jar));
    assert.equal(await (await fetch(url('releases', '/org/corp/svc-impl/1.0/svc-impl-1.0.jar.sha1'))).text(), sha1(jar));
    const md = await fetch(url('maven', '/org/corp/svc-impl/maven-metadata.xml'));
    const xml = await md.text();
    assert.match(xml, /<release>1\.0<\/release>/);
    assert.deepEqual(versionsOf(xml), ['1.0']);
    assert.equal(await (await fetch(url('maven', '/org/corp/svc-impl/maven-metadata.xml.md5'))).text(), createHash('md5').update(xml).digest('hex'));
    // The parent pom was deployed too.
    assert.equal((await fetch(url('releases', '/org/corp/svc/1.0/svc-1.0.pom'))).status, 200);
  });

  it('a release is immutable: deploying it again fails with 409 and the stored jar is unchanged', async () => {
    const before = await (await fetch(url('releases', '/org/corp/svc-impl/1.0/svc-impl-1.0.jar.sha1'))).text();
    const r = await run(MVN38.bin, 'deploy', { ...svc, modules: [{ groupId: 'org.corp', artifactId: 'svc-impl', version: '1.0', padding: 5 }], deployTo: { id: 'corp', url: url('releases') } });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /409/);
    assert.equal(await (await fetch(url('releases', '/org/corp/svc-impl/1.0/svc-impl-1.0.jar.sha1'))).text(), before);
  });

  it('snapshots: three builds deployed by mvn 3.8, 3.9 and 4; the newest answers -SNAPSHOT, two are kept, another project resolves it at once', async () => {
    const lib = (padding: number): Project => ({ groupId: 'org.corp', artifactId: 'lib', version: '2.0-SNAPSHOT', padding, deployTo: { id: 'corp', url: url('releases'), snapshots: url('snapshots') } });
    const jars: Uint8Array[] = [];
    const builds: string[] = [];
    const jarValue = (xml: string): string => /<extension>jar<\/extension>\s*<value>([^<]+)<\/value>/.exec(xml)?.[1] ?? '';
    for (const [i, m] of [MVN38, MVN39, MVN4].entries()) {
      const r = await run(m.bin, 'deploy', lib(1000 + i));
      assert.equal(r.code, 0, `${m.version}: ${r.out.slice(-4000)}`);
      jars.push(new Uint8Array(await readFile(join(r.dir, 'target', 'lib-2.0-SNAPSHOT.jar'))));
      builds.push(jarValue(await (await fetch(url('snapshots', '/org/corp/lib/2.0-SNAPSHOT/maven-metadata.xml'))).text()));
    }
    assert.deepEqual(builds.map((b) => b.slice(-2)), ['-1', '-2', '-3'], 'each client read our metadata and numbered its build after it');
    const xml = await (await fetch(url('snapshots', '/org/corp/lib/2.0-SNAPSHOT/maven-metadata.xml'))).text();
    assert.match(xml, /<buildNumber>3<\/buildNumber>/);
    const value = jarValue(xml);
    assert.match(value, /^2\.0-\d{8}\.\d{6}-3$/);
    const newest = await fetch(url('snapshots', `/org/corp/lib/2.0-SNAPSHOT/lib-${value}.jar`));
    assert.deepEqual(new Uint8Array(await newest.arrayBuffer()), jars[2]);
    assert.deepEqual(new Uint8Array(await (await fetch(url('snapshots', '/org/corp/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar'))).arrayBuffer()), jars[2]);
    // keepSnapshots 2: build 1 is gone, build 2 stays.
    assert.equal((await fetch(url('snapshots', `/org/corp/lib/2.0-SNAPSHOT/lib-${builds[0]}.jar`))).status, 404);
    assert.equal((await fetch(url('snapshots', `/org/corp/lib/2.0-SNAPSHOT/lib-${builds[1]}.jar`))).status, 200);
    const consumer = await run(MVN38.bin, 'verify', { groupId: 'org.corp', artifactId: 'consumer', version: '1.0', deps: ['org.corp:lib:2.0-SNAPSHOT'] });
    assert.equal(consumer.code, 0, consumer.out.slice(-4000));
    assert.deepEqual(new Uint8Array(await readFile(join(consumer.repo, 'org/corp/lib/2.0-SNAPSHOT/lib-2.0-SNAPSHOT.jar'))), jars[2]);
  });

  const put = (repo: string, path: string, body: string | Uint8Array, headers: Record<string, string> = auth): Promise<Response> => fetch(url(repo, path), { method: 'PUT', headers, body });

  it('bad input gets a plain-text error and stores nothing: traversal, non-Maven paths, policy, wrong checksums, oversize, entity bombs, no credentials', async () => {
    for (const p of ['/org/%2e%2e/x/1/x-1.jar', '/org/../etc/1/x-1.jar', '/org/x/1.0/x-1.0.jar%00', '/org/x\\y/1.0/x-1.0.jar']) {
      const r = await put('releases', p, 'x');
      assert.ok(r.status === 400 || r.status === 404, `${p}: ${r.status}`);
    }
    const notMaven = await put('releases', '/org/corp/thing.jar', 'x');
    assert.equal(notMaven.status, 400);
    assert.match(await notMaven.text(), /not a Maven artifact path/);
    assert.equal((await put('releases', '/org/corp/x/1.0-SNAPSHOT/x-1.0-SNAPSHOT.jar', 'x')).status, 400, 'a release repo refuses snapshots');
    assert.equal((await put('snapshots', '/org/corp/x/1.0/x-1.0.jar', 'x')).status, 400, 'a snapshot repo refuses releases');
    // A checksum that does not match the file just deployed: 400, and the file is not kept.
    assert.equal((await put('releases', '/org/corp/x/1.0/x-1.0.jar', 'the jar')).status, 201);
    const bad = await put('releases', '/org/corp/x/1.0/x-1.0.jar.sha1', '0000000000000000000000000000000000000000');
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /does not match/);
    assert.equal((await fetch(url('releases', '/org/corp/x/1.0/x-1.0.jar'))).status, 404);
    assert.equal((await put('releases', '/org/corp/x/1.0/x-1.0.jar', 'the jar')).status, 201, 'and can be deployed again');
    assert.equal((await put('releases', '/org/corp/x/1.0/x-1.0.jar.sha1', sha1(new TextEncoder().encode('the jar')))).status, 201);
    const big = await put('small', '/org/corp/big/1.0/big-1.0.jar', new Uint8Array(4096));
    assert.equal(big.status, 413);
    assert.equal((await fetch(url('small', '/org/corp/big/1.0/big-1.0.jar'))).status, 404);
    const bomb = `<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><metadata><groupId>&b;</groupId><plugins><plugin><prefix>x</prefix><artifactId>x</artifactId></plugin></plugins></metadata>`;
    const md = await put('releases', '/org/corp/maven-metadata.xml', bomb);
    assert.equal(md.status, 400);
    assert.match(await md.text(), /DOCTYPE/);
    const anon = await put('releases', '/org/corp/y/1.0/y-1.0.jar', 'x', {});
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic /);
    const reader = await put('releases', '/org/corp/y/1.0/y-1.0.jar', 'x', { authorization: basic('reader') });
    assert.equal(reader.status, 403);
    assert.equal((await fetch(url('releases', '/org/corp/y/1.0/y-1.0.jar'))).status, 404);
  });

  it('8 concurrent deploys of versions of one artifact: the metadata lists every one; DELETE of a version folder takes it out', async () => {
    const vs = Array.from({ length: 8 }, (_, i) => `3.${i}`);
    const res = await Promise.all(vs.map((v) => put('releases', `/org/corp/many/${v}/many-${v}.pom`, `<project>${v}</project>`)));
    assert.deepEqual(res.map((r) => r.status), vs.map(() => 201));
    const xml = await (await fetch(url('releases', '/org/corp/many/maven-metadata.xml'))).text();
    assert.deepEqual(versionsOf(xml), vs);
    assert.match(xml, /<latest>3\.7<\/latest>/);
    assert.equal((await fetch(url('releases', '/org/corp/many/3.7/'), { method: 'DELETE', headers: auth })).status, 200);
    const after = await (await fetch(url('releases', '/org/corp/many/maven-metadata.xml'))).text();
    assert.deepEqual(versionsOf(after), vs.slice(0, 7));
    assert.match(after, /<release>3\.6<\/release>/);
    assert.equal((await fetch(url('releases', '/org/corp/many/3.7/many-3.7.pom'))).status, 404);
  });

  it('group metadata: plugin prefixes a client sends are kept for plugins hosted here, never for others', async () => {
    assert.equal((await put('releases', '/org/corp/plugins/corp-maven-plugin/1.0/corp-maven-plugin-1.0.jar', 'plugin')).status, 201);
    const group = '<metadata><plugins><plugin><name>Corp</name><prefix>corp</prefix><artifactId>corp-maven-plugin</artifactId></plugin><plugin><prefix>evil</prefix><artifactId>not-here-maven-plugin</artifactId></plugin></plugins></metadata>';
    assert.equal((await put('releases', '/org/corp/plugins/maven-metadata.xml', group)).status, 201);
    const xml = await (await fetch(url('releases', '/org/corp/plugins/maven-metadata.xml'))).text();
    assert.match(xml, /<prefix>corp<\/prefix>/);
    assert.doesNotMatch(xml, /evil/);
  });

  // Issue 27: Maven 4.0.0-rc-5 did not apply a repository's prefix file. Maven 3.10 and 4.0.0-rc-6
  // (Resolver 2) discover it, for a mirror (how builds reach binaryrepo) once the user opts in with
  // useMirroredRepositories. A hosted group missing from the virtual's file would then fail every
  // build of it; a group outside every prefix must never be fetched. Resolver 2 also checks its
  // first denial with one HEAD (verifyDenied): a HEAD may come, a GET may not.
  for (const m of [MVN310, MVN4]) {
    it(`mvn ${m.version} with prefix discovery on: hosted groups resolve, a group outside every prefix is never fetched (mvn 3.9 fetches it)`, async () => {
      const optIn = ['-Daether.remoteRepositoryFilter.prefixes.useMirroredRepositories=true'];
      const gets = (what: string): number => br.logs.filter((l) => l.includes('"method":"GET"') && l.includes(what)).length;
      const tag = m.version.replace(/\W/g, '');
      const ok = await run(m.bin, 'verify', { groupId: 'org.corp', artifactId: `consumer${tag}`, version: '1.0', deps: ['org.corp:svc-api:1.0'] }, optIn);
      assert.equal(ok.code, 0, ok.out.slice(-4000));
      assert.match(ok.out, /Loaded \d+ auto-discovered prefixes for remote repository binaryrepo/, 'Maven took the prefix file');
      const before = gets('/zz/absent/');
      const filtered = await run(m.bin, 'verify', { groupId: 'org.corp', artifactId: `consumer${tag}b`, version: '1.0', deps: ['zz.absent:thing:1.0'] }, optIn);
      assert.notEqual(filtered.code, 0);
      assert.match(filtered.out, /NOT allowed from binaryrepo/);
      assert.equal(gets('/zz/absent/'), before, 'no GET for a group outside every prefix');
      const unfiltered = await run(MVN39.bin, 'verify', { groupId: 'org.corp', artifactId: `consumer39${tag}`, version: '1.0', deps: ['zz.absent:thing:1.0'] });
      assert.notEqual(unfiltered.code, 0);
      assert.ok(gets('/zz/absent/') > before, 'Maven 3.9 has no prefix filter: it fetches');
    });
  }

  it('a virtual\'s prefix file is the union of its members\' (the upstream\'s and the hosted groups)', async () => {
    const lines = (await (await fetch(url('maven', '/.meta/prefixes.txt'))).text()).split('\n');
    assert.equal(lines[0], '## repository-prefixes/2.0');
    assert.ok(lines.includes('/org/corp'), lines.join('|'));
    assert.ok(lines.includes('/org/apache'), lines.join('|'));
    assert.equal(new Set(lines).size, lines.length, 'each prefix once');
  });
});

