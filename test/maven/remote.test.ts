import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAVENS, filesOf, mvn, seedTree, writeProject, writeSettings } from '../helpers/maven.ts';
import type { Project } from '../helpers/maven.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');
const [MVN38, MVN39, MVN4] = MAVENS as [(typeof MAVENS)[0], (typeof MAVENS)[0], (typeof MAVENS)[0]];

// Issue 27: a Maven remote over a real repository tree (made by mvn deploy, served by nginx), used by real mvn 3.8, 3.9 and 4.
describe('Maven remote and virtual, with mvn 3.8, 3.9 and 4', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let up2: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let runs = 0;
  const fresh = (): { home: string; repo: string } => {
    runs++;
    return { home: join(work.path, `home-${runs}`), repo: join(work.path, `m2-${runs}`) };
  };
  const app: Project = {
    groupId: 'org.example.app',
    artifactId: 'app',
    version: '1.0',
    modules: [
      { groupId: 'org.example.app', artifactId: 'core', version: '1.0', deps: ['org.example:lib-a:1.1', 'org.example:lib-b:1.0-SNAPSHOT'] },
      { groupId: 'org.example.app', artifactId: 'web', version: '1.0', deps: ['org.example.app:core:1.0'] },
    ],
  };

  /** Deploys a project into a file:// repository tree, resolving plugins from `from` (the seed tree). */
  async function deployInto(tree: string, from: string, p: Project): Promise<void> {
    const dir = join(work.path, 'src', `${p.artifactId}-${p.version}-${runs}`);
    await writeProject(dir, { ...p, deployTo: { id: 'up', url: `file://${tree}` } });
    const f = fresh();
    const settings = await writeSettings(join(work.path, `s-up-${runs}.xml`), { mirror: `file://${from}` });
    const r = await mvn(MVN38.bin, ['deploy'], { cwd: dir, ...f, settings });
    assert.equal(r.code, 0, r.stdout.slice(-3000));
  }

  async function build(bin: string, mirror: string, project = app): Promise<{ code: number; out: string; repo: string }> {
    const dir = join(work.path, `build-${runs}`);
    await writeProject(dir, project);
    const f = fresh();
    const settings = await writeSettings(join(work.path, `s-${runs}.xml`), { mirror });
    const r = await mvn(bin, ['verify'], { cwd: dir, ...f, settings });
    return { code: r.code, out: r.stdout + r.stderr, repo: f.repo };
  }

  before(async () => {
    work = await tempDir('maven-remote-');
    const tree = join(work.path, 'up');
    await seedTree(tree);
    await deployInto(tree, tree, { groupId: 'org.example', artifactId: 'lib-a', version: '1.0', padding: 50_000 });
    await deployInto(tree, tree, { groupId: 'org.example', artifactId: 'lib-a', version: '1.1', padding: 300_000 });
    await deployInto(tree, tree, { groupId: 'org.example', artifactId: 'lib-b', version: '1.0-SNAPSHOT', padding: 1000 });
    await deployInto(tree, tree, { groupId: 'org.example', artifactId: 'lib-b', version: '1.0-SNAPSHOT', padding: 2000 });
    const tree2 = join(work.path, 'up2');
    await deployInto(tree2, tree, { groupId: 'org.example', artifactId: 'lib-a', version: '1.2' });
    up = await startStaticNginx(tree, join(work.path, 'ngx1'));
    up2 = await startStaticNginx(tree2, join(work.path, 'ngx2'));
    relay = await startRelay(up.url);
    br = await startServer({
      config: {
        repos: [
          { name: 'central', format: 'maven', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } },
          { name: 'central2', format: 'maven', type: 'remote', upstream: { url: up2.url } },
          { name: 'internal', format: 'maven', type: 'local' },
          { name: 'maven', format: 'maven', type: 'virtual', members: ['internal', 'central'] },
          { name: 'merged', format: 'maven', type: 'virtual', members: ['central', 'central2'] },
        ],
      },
    });
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => up2?.stop(), () => work?.cleanup()));

  const gets = (path: string): number => relay.requests.get(`GET ${path}`) ?? 0;

  it('mvn 3.8.7 verify of a multi-module project, cold: plugins and dependencies through the virtual, each file fetched upstream once', async () => {
    const r = await build(MVN38.bin, `${br.url}/repo/maven`);
    assert.equal(r.code, 0, r.out.slice(-4000));
    const jar = '/org/example/lib-a/1.1/lib-a-1.1.jar';
    assert.equal(gets(jar), 1);
    assert.equal(gets(`${jar}.sha1`), 1, 'the upstream checksum was read to verify the fill');
    const upstreamJar = await readFile(join(work.path, 'up', jar));
    assert.deepEqual(await readFile(join(r.repo, jar)), upstreamJar);
    // Every request for a release file went upstream at most once.
    for (const [k, n] of relay.requests) if (!k.includes('maven-metadata') && !k.includes('SNAPSHOT')) assert.equal(n, 1, `${k}: ${[...relay.requests].filter(([, c]) => c > 1).map(([p]) => p).join(' ')}`);
    // The snapshot resolved to the newest timestamped build of the two deployed.
    const local = await filesOf(join(r.repo, 'org', 'example', 'lib-b', '1.0-SNAPSHOT'));
    assert.ok(local.includes('lib-b-1.0-SNAPSHOT.jar'), local.join(' '));
    const builds = (await filesOf(join(work.path, 'up', 'org', 'example', 'lib-b', '1.0-SNAPSHOT'))).filter((f) => /-\d{8}\.\d{6}-2\.jar$/.test(f));
    assert.equal(builds.length, 1);
    assert.deepEqual(await readFile(join(r.repo, 'org/example/lib-b/1.0-SNAPSHOT/lib-b-1.0-SNAPSHOT.jar')), await readFile(join(work.path, 'up/org/example/lib-b/1.0-SNAPSHOT', builds[0] ?? '')));
  });

  it('warm: mvn 3.9.16 with an empty local repository asks the upstream for no release file again', async () => {
    const before = new Map(relay.requests);
    const r = await build(MVN39.bin, `${br.url}/repo/maven`);
    assert.equal(r.code, 0, r.out.slice(-4000));
    const fresh: string[] = [];
    for (const [k, n] of relay.requests) if (n !== (before.get(k) ?? 0) && !k.includes('maven-metadata')) fresh.push(k);
    assert.deepEqual(fresh, [], 'only metadata may be revalidated (TTL 0 here)');
  });

  it('Maven 4 (4.0.0-rc-6) builds the same project through the virtual', async () => {
    const r = await build(MVN4.bin, `${br.url}/repo/maven`);
    assert.equal(r.code, 0, r.out.slice(-4000));
  });

  it('a -SNAPSHOT file asked by its plain name (curl, not mvn) is the newest timestamped build the upstream\'s metadata names', async () => {
    const builds = (await filesOf(join(work.path, 'up', 'org', 'example', 'lib-b', '1.0-SNAPSHOT'))).filter((f) => /-\d{8}\.\d{6}-2\.jar$/.test(f));
    assert.equal(builds.length, 1);
    const res = await fetch(`${br.url}/repo/central/org/example/lib-b/1.0-SNAPSHOT/lib-b-1.0-SNAPSHOT.jar`);
    assert.equal(res.status, 200);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array(await readFile(join(work.path, 'up/org/example/lib-b/1.0-SNAPSHOT', builds[0] ?? ''))));
    assert.equal(gets('/org/example/lib-b/1.0-SNAPSHOT/lib-b-1.0-SNAPSHOT.jar'), 0, 'the plain name was never asked upstream (it does not exist there)');
    assert.equal((await fetch(`${br.url}/repo/central/org/example/lib-b/1.0-SNAPSHOT/lib-b-1.0-SNAPSHOT-sources.jar`)).status, 404);
  });

  it('checksums: siblings computed over what we serve, X-Checksum headers, HEAD and Range', async () => {
    const base = `${br.url}/repo/maven/org/example/lib-a/1.1/lib-a-1.1.jar`;
    const body = new Uint8Array(await (await fetch(base)).arrayBuffer());
    for (const alg of ['md5', 'sha1', 'sha256', 'sha512'] as const) {
      const s = await fetch(`${base}.${alg}`);
      assert.equal(s.status, 200, alg);
      assert.equal(await s.text(), createHash(alg).update(body).digest('hex'), alg);
    }
    const h = await fetch(base, { method: 'HEAD' });
    assert.equal(h.headers.get('x-checksum-sha1'), sha1(body));
    assert.equal(h.headers.get('content-length'), String(body.byteLength));
    const rg = await fetch(base, { headers: { range: 'bytes=10-19' } });
    assert.equal(rg.status, 206);
    assert.deepEqual(new Uint8Array(await rg.arrayBuffer()), body.subarray(10, 20));
    const md = await fetch(`${br.url}/repo/maven/org/example/lib-a/maven-metadata.xml`);
    const mdBytes = new Uint8Array(await md.arrayBuffer());
    assert.equal(await (await fetch(`${br.url}/repo/maven/org/example/lib-a/maven-metadata.xml.sha1`)).text(), sha1(mdBytes));
  });

  it('a virtual merges its members\' metadata: versions unioned, latest and release the maximum, checksums over the merged bytes', async () => {
    const res = await fetch(`${br.url}/repo/merged/org/example/lib-a/maven-metadata.xml`);
    assert.equal(res.status, 200);
    const xml = await res.text();
    assert.match(xml, /<latest>1\.2<\/latest>/);
    assert.match(xml, /<release>1\.2<\/release>/);
    assert.deepEqual([...xml.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1]), ['1.0', '1.1', '1.2']);
    const sum = await (await fetch(`${br.url}/repo/merged/org/example/lib-a/maven-metadata.xml.sha1`)).text();
    assert.equal(sum, sha1(new TextEncoder().encode(xml)));
    // The snapshot version's metadata names the newest build.
    const snap = await (await fetch(`${br.url}/repo/merged/org/example/lib-b/1.0-SNAPSHOT/maven-metadata.xml`)).text();
    assert.match(snap, /<buildNumber>2<\/buildNumber>/);
  });

  it('dependency confusion: a name the hosted member has is never answered from the remote', async () => {
    for (const f of ['lib-a-7.0.pom', 'lib-a-7.0.jar']) {
      const put = await fetch(`${br.url}/repo/internal/org/example/lib-a/7.0/${f}`, { method: 'PUT', body: `internal ${f}` });
      assert.equal(put.status, 201);
    }
    const xml = await (await fetch(`${br.url}/repo/maven/org/example/lib-a/maven-metadata.xml`)).text();
    assert.deepEqual([...xml.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1]), ['7.0']);
    assert.equal((await fetch(`${br.url}/repo/maven/org/example/lib-a/1.1/lib-a-1.1.jar`)).status, 404);
    // Other names still come from the remote.
    assert.equal((await fetch(`${br.url}/repo/maven/org/example/lib-b/maven-metadata.xml`)).status, 200);
    assert.equal((await fetch(`${br.url}/repo/internal/org/example/lib-a/7.0`, { method: 'DELETE' })).status, 200);
    assert.equal((await fetch(`${br.url}/repo/maven/org/example/lib-a/1.1/lib-a-1.1.jar`)).status, 200);
  });

  it('prefix files: a hosted repo lists its groups; a virtual over a remote without one answers 404, never one member\'s file', async () => {
    await fetch(`${br.url}/repo/internal/com/corp/tool/1.0/tool-1.0.pom`, { method: 'PUT', body: '<project/>' });
    const p = await fetch(`${br.url}/repo/internal/.meta/prefixes.txt`);
    assert.equal(p.status, 200);
    const lines = (await p.text()).split('\n');
    assert.equal(lines[0], '## repository-prefixes/2.0');
    assert.ok(lines.includes('/com/corp'), lines.join('|'));
    assert.equal((await fetch(`${br.url}/repo/maven/.meta/prefixes.txt`)).status, 404);
  });

  it('8 concurrent clients missing one file make one upstream request', async () => {
    const path = '/org/example/lib-a/1.0/lib-a-1.0.jar';
    const n0 = gets(path);
    const bodies = await Promise.all(Array.from({ length: 8 }, () => fetch(`${br.url}/repo/central${path}`).then(async (r) => ({ s: r.status, b: new Uint8Array(await r.arrayBuffer()) }))));
    const want = await readFile(join(work.path, 'up', path));
    for (const b of bodies) {
      assert.equal(b.s, 200);
      assert.deepEqual(b.b, new Uint8Array(want));
    }
    assert.equal(gets(path) - n0, 1);
  });

  it('upstream stopped: a build from the cache still succeeds (metadata served stale)', async () => {
    await up.stop();
    try {
      const r = await build(MVN38.bin, `${br.url}/repo/maven`);
      assert.equal(r.code, 0, r.out.slice(-4000));
      const md = await fetch(`${br.url}/repo/central/org/example/lib-b/1.0-SNAPSHOT/maven-metadata.xml`);
      assert.equal(md.status, 200);
      assert.equal(md.headers.get('x-cache'), 'STALE');
      // Never cached and the upstream down: the failure, not a 404.
      assert.equal((await fetch(`${br.url}/repo/central/org/example/never/1.0/never-1.0.jar`)).status, 502);
    } finally {
      await up.restart();
    }
  });
});
