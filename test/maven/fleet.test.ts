import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAVENS, mvn, seedTree, writeProject, writeSettings } from '../helpers/maven.ts';
import type { Project } from '../helpers/maven.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const [MVN38, MVN39] = MAVENS as [(typeof MAVENS)[0], (typeof MAVENS)[0]];

// Issue 27: a CI fleet on one cache: 8 mvn builds at once against a cold remote (one upstream GET per
// file), then the upstream answering 429 to everything while a build runs from what is cached.
describe('Maven remote under a build fleet and a rate-limiting upstream', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let limited = false;
  let runs = 0;
  const app: Project = { groupId: 'org.fleet', artifactId: 'app', version: '1.0', deps: ['org.example:lib-a:[1.0,2.0)'] };
  // A version range: every build asks lib-a's maven-metadata.xml (TTL 0 here), so the 429 build needs it served stale.

  async function build(bin: string): Promise<{ code: number; out: string }> {
    const n = ++runs;
    const dir = join(work.path, `build-${n}`);
    await writeProject(dir, app);
    const settings = await writeSettings(join(work.path, `s-${n}.xml`), { mirror: `${br.url}/repo/central` });
    const r = await mvn(bin, ['verify'], { cwd: dir, home: join(work.path, `home-${n}`), repo: join(work.path, `m2-${n}`), settings, timeoutMs: 600_000 });
    return { code: r.code, out: r.stdout + r.stderr };
  }

  before(async () => {
    work = await tempDir('maven-fleet-');
    const tree = join(work.path, 'up');
    await seedTree(tree);
    const lib = join(work.path, 'lib');
    await writeProject(lib, { groupId: 'org.example', artifactId: 'lib-a', version: '1.0', padding: 100_000, deployTo: { id: 'up', url: `file://${tree}` } });
    const settings = await writeSettings(join(work.path, 's-up.xml'), { mirror: `file://${tree}` });
    const d = await mvn(MVN38.bin, ['deploy'], { cwd: lib, home: join(work.path, 'home-up'), repo: join(work.path, 'm2-up'), settings });
    assert.equal(d.code, 0, d.stdout.slice(-3000));
    up = await startStaticNginx(tree, join(work.path, 'ngx'));
    relay = await startRelay(up.url, { answer: () => (limited ? { status: 429, headers: { 'retry-after': '2' } } : undefined) });
    br = await startServer({ config: { repos: [{ name: 'central', format: 'maven', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }] } });
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('8 mvn builds at once against the cold cache all succeed, and every release file was asked upstream once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => build(MVN39.bin)));
    for (const r of results) assert.equal(r.code, 0, r.out.slice(-3000));
    const twice = [...relay.requests].filter(([k, n]) => n > 1 && !k.includes('maven-metadata'));
    assert.deepEqual(twice, []);
    assert.ok(relay.count('GET', '.jar') >= 10, `jars fetched: ${relay.count('GET', '.jar')}`);
  });

  it('the upstream answering 429 to everything: a build from the cache still succeeds, metadata served stale', async () => {
    limited = true;
    relay.reset();
    try {
      const r = await build(MVN39.bin);
      assert.equal(r.code, 0, r.out.slice(-4000).replace(/\[INFO\][^\n]*\n/g, ''));
      assert.ok(relay.count('GET', '/org/example/lib-a/maven-metadata.xml') >= 1, 'the upstream was asked for the metadata (TTL 0) and said 429');
      const md = await fetch(`${br.url}/repo/central/org/example/lib-a/maven-metadata.xml`);
      assert.equal(md.status, 200);
      assert.equal(md.headers.get('x-cache'), 'STALE');
      await md.body?.cancel();
    } finally {
      limited = false;
    }
  });
});
