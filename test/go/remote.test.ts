import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goEnv, writeProxyTree } from '../helpers/gomod.ts';
import type { ModuleVersion } from '../helpers/gomod.ts';
import { run } from '../helpers/net.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const PSEUDO = 'v0.0.0-20260101000000-abcdefabcdef';
const GOPKG_PSEUDO = 'v0.0.0-20161208181325-20d25e280405';
const mod = (path: string, version: string, body: string, pkg: string): ModuleVersion => ({
  path,
  version,
  // A +incompatible version predates modules: no go.mod in its zip, only the proxy's synthesised .mod.
  files: { ...(version.endsWith('+incompatible') ? {} : { 'go.mod': `module ${path}\n\ngo 1.21\n` }), [`${pkg}.go`]: `package ${pkg}\n\n${body}\n` },
});

// Issue 11: a Go remote repo (GOPROXY cache) in front of a GOPROXY file tree served by nginx, with
// the real go command as the client: versions, a build with a /v2 module, a pseudo-version and an
// upper-case module path, then again with the upstream stopped; concurrent downloads coalesce.
describe('Go remote repo with the go command', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;

  before(async () => {
    work = await tempDir('go-remote-');
    const tree = join(work.path, 'proxy');
    await writeProxyTree(tree, [
      mod('example.com/greet', 'v1.0.0', 'func Hello() string { return "hello 1.0" }', 'greet'),
      mod('example.com/greet', 'v1.1.0', 'func Hello() string { return "hello 1.1" }', 'greet'),
      mod('example.com/greet/v2', 'v2.0.0', 'func Hello() string { return "hello v2" }', 'greet'),
      mod('example.com/Upper', 'v0.1.0', 'func Name() string { return "Upper" }', 'upper'),
      mod('example.com/pseudo', PSEUDO, 'func Ok() bool { return true }', 'pseudo'),
      // Shapes of real graphs (issue 24 A): gopkg.in's .vN majors (and the v0.0.0- pseudo-versions
      // real go.mod files still require of .v1 paths), +incompatible, a /vN below the repo root.
      mod('gopkg.in/yaml.v3', 'v3.0.1', 'func Y() int { return 3 }', 'yaml'),
      mod('gopkg.in/check.v1', GOPKG_PSEUDO, 'func C() int { return 1 }', 'check'),
      mod('example.com/docker', 'v28.3.3+incompatible', 'func D() int { return 28 }', 'docker'),
      mod('example.com/etcd/client/v3', 'v3.5.21', 'func E() int { return 5 }', 'client'),
      mod('example.com/later', 'v1.0.0', 'func X() int { return 1 }', 'later'),
      mod('example.com/private/secret', 'v1.0.0', 'func S() int { return 2 }', 'secret'),
    ]);
    ngx = await startStaticNginx(tree, work.path);
    relay = await startRelay(ngx.url);
    br = await startServer({
      config: {
        repos: [
          { name: 'gomod', format: 'go', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, private: ['example.com/private'] },
          { name: 'goall', format: 'go', type: 'virtual', members: ['gomod'] },
        ],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => work?.cleanup()));

  /** The go command with a fresh module cache (unless given) and nothing but our proxy. */
  async function goCmd(args: string[], opts: { cwd?: string; cache?: string; proxy?: string } = {}) {
    const home = opts.cache ?? (await tempDirIn(work.path));
    return run('go', args, {
      cwd: opts.cwd ?? work.path,
      timeoutMs: 240_000,
      env: goEnv(home, join(work.path, 'gocache'), { GOPROXY: opts.proxy ?? `${br.url}/repo/gomod` }),
    });
  }

  it('go list -m -versions through the cache', async () => {
    const r = await goCmd(['list', '-m', '-versions', 'example.com/greet']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'example.com/greet v1.0.0 v1.1.0');
  });

  it('go build of a program with /v2, gopkg.in .vN, +incompatible, a pseudo-version and an upper-case path; each zip fetched once', async () => {
    const app = join(work.path, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(
      join(app, 'go.mod'),
      `module example.com/app\n\ngo 1.21\n\nrequire (\n\texample.com/greet v1.1.0\n\texample.com/greet/v2 v2.0.0\n\texample.com/Upper v0.1.0\n\texample.com/pseudo ${PSEUDO}\n\tgopkg.in/yaml.v3 v3.0.1\n\tgopkg.in/check.v1 ${GOPKG_PSEUDO}\n\texample.com/docker v28.3.3+incompatible\n\texample.com/etcd/client/v3 v3.5.21\n)\n`,
    );
    await writeFile(
      join(app, 'main.go'),
      'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/Upper"\n\t"example.com/greet"\n\tgreet2 "example.com/greet/v2"\n\t"example.com/pseudo"\n\t"example.com/docker"\n\t"example.com/etcd/client/v3"\n\t"gopkg.in/check.v1"\n\t"gopkg.in/yaml.v3"\n)\n\nfunc main() { fmt.Println(greet.Hello(), greet2.Hello(), upper.Name(), pseudo.Ok(), yaml.Y()+check.C()+docker.D()+client.E()) }\n',
    );
    const cache = await tempDirIn(work.path);
    const build = await goCmd(['build', '-o', join(app, 'app'), '.'], { cwd: app, cache });
    assert.equal(build.code, 0, build.stderr);
    const out = await run(join(app, 'app'), []);
    assert.equal(out.stdout.trim(), 'hello 1.1 hello v2 Upper true 37');
    for (const z of ['gopkg.in/yaml.v3/@v/v3.0.1.zip', `gopkg.in/check.v1/@v/${GOPKG_PSEUDO}.zip`, 'example.com/docker/@v/v28.3.3+incompatible.zip', 'example.com/etcd/client/v3/@v/v3.5.21.zip', 'example.com/greet/@v/v1.1.0.zip', 'example.com/greet/v2/@v/v2.0.0.zip', 'example.com/!upper/@v/v0.1.0.zip', `example.com/pseudo/@v/${PSEUDO}.zip`]) {
      assert.equal(relay.count('GET', `/${z}`), 1, z);
    }
  });

  it('with the upstream stopped, a fresh module cache builds the same program from our cache (through the virtual repo too)', async () => {
    await ngx.stop();
    try {
      for (const proxy of [`${br.url}/repo/gomod`, `${br.url}/repo/goall`]) {
        const build = await goCmd(['build', '-o', join(work.path, 'app', 'app2'), '.'], { cwd: join(work.path, 'app'), proxy });
        assert.equal(build.code, 0, `${proxy}: ${build.stderr}`);
      }
      const missing = await fetch(`${br.url}/repo/gomod/example.com/nothing/@v/v1.0.0.info`);
      assert.ok(missing.status === 502 || missing.status === 503, `uncached while the upstream is down: ${missing.status}`);
    } finally {
      await ngx.restart();
    }
  });

  it('8 concurrent go mod download of an uncached module: one upstream request per file', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => goCmd(['mod', 'download', '-json', 'example.com/later@v1.0.0'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    for (const f of ['info', 'mod', 'zip']) assert.equal(relay.count('GET', `/example.com/later/@v/v1.0.0.${f}`), 1, f);
  });

  it('bad paths and versions get a clear 4xx in plain text; private modules are never asked upstream', async () => {
    const cases: Array<[string, number]> = [
      ['/example.com/UPPER/@v/list', 400],
      ['/example.com/a/../b/@v/list', 404],
      ['/example.com/greet/@v/1.0.0.info', 400],
      ['/example.com/greet/@v/v1.0.info', 400],
      ['/nodot/@v/list', 400],
      ['/example.com/greet/@v/v2.0.0.info', 400],
      ['/example.com/private/secret/@v/v1.0.0.zip', 404],
      ['/example.com/greet/@v/v1.0.0.tar', 404],
    ];
    for (const [p, status] of cases) {
      const r = await fetch(`${br.url}/repo/gomod${p}`);
      assert.equal(r.status, status, p);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/, p);
      await r.body?.cancel();
    }
    assert.equal(relay.count('GET', '/example.com/private/'), 0, 'the private module never went upstream');
  });
});

async function tempDirIn(parent: string): Promise<string> {
  const dir = join(parent, `home-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir, { recursive: true });
  return dir;
}
