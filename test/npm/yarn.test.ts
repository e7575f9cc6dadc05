import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { npm, npmHome, runClient, startVerdaccio, toolPath, writePackage } from '../helpers/npm.ts';
import type { RunResult, Verdaccio } from '../helpers/npm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 25: yarn 1 and yarn 4 (berry) install through a virtual npm repo over a hosted repo and a
// remote of a real Verdaccio, and again from their lockfiles with their caches gone.
describe('npm repos with yarn 1 and yarn 4', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Verdaccio;
  let br: TestServer;
  const reg = (): string => `${br.url}/repo/npm/`;
  const deps = { 'app-dep': '2.0.0', '@corp/inhouse': '^1.0.0' };

  before(async () => {
    work = await tempDir('npm-yarn-');
    up = await startVerdaccio(join(work.path, 'verdaccio'));
    const pub = await npmHome(join(work.path, 'pub'), `${up.url}/`, up.token);
    for (const s of [
      { name: 'left-pad-x', version: '1.0.0' },
      { name: 'left-pad-x', version: '1.1.0', padding: 100_000 },
      { name: '@corp/util', version: '1.0.0' },
      { name: 'app-dep', version: '2.0.0', dependencies: { 'left-pad-x': '^1.0.0', '@corp/util': '1.0.0' } },
    ]) {
      const r = await npm(['publish'], { cwd: await writePackage(join(work.path, 'src', `${s.name.replace('/', '_')}-${s.version}`), s), home: pub });
      assert.equal(r.code, 0, r.stderr);
    }
    br = await startServer({
      config: {
        repos: [
          { name: 'corp', format: 'npm', type: 'local' },
          { name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: up.url } },
          { name: 'npm', format: 'npm', type: 'virtual', members: ['corp', 'npmjs'], deployTo: 'corp' },
        ],
      },
    });
    const own = await npm(['publish'], { cwd: await writePackage(join(work.path, 'src', 'inhouse'), { name: '@corp/inhouse', version: '1.0.0' }), home: await npmHome(join(work.path, 'pub-br'), reg(), 'no-users-here') });
    assert.equal(own.code, 0, own.stderr);
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  const installed = async (dir: string): Promise<void> => {
    assert.equal(await readFile(join(dir, 'node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@1.1.0";\n');
    assert.equal(await readFile(join(dir, 'node_modules/@corp/inhouse/index.js'), 'utf8'), 'module.exports = "@corp/inhouse@1.0.0";\n');
    assert.equal(await readFile(join(dir, 'node_modules/@corp/util/index.js'), 'utf8'), 'module.exports = "@corp/util@1.0.0";\n');
  };
  const ok = (r: RunResult): void => assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);

  it('yarn 1: install writes a yarn.lock naming binaryrepo; a frozen install from it with an empty cache', async () => {
    const yarn = await toolPath('yarn1');
    const dir = await writePackage(join(work.path, 'y1'), { name: 'y1', version: '1.0.0', dependencies: deps });
    await writeFile(join(dir, '.yarnrc'), `registry "${reg()}"\n`);
    const run = (cwd: string, args: string[], cache: string): Promise<RunResult> =>
      runClient('node', [yarn, ...args, '--non-interactive', '--no-progress', '--cache-folder', join(work.path, cache)], { cwd, home: join(work.path, 'y1-home') });
    await mkdir(join(work.path, 'y1-home'), { recursive: true });
    ok(await run(dir, ['install'], 'y1-cache'));
    await installed(dir);
    const lock = await readFile(join(dir, 'yarn.lock'), 'utf8');
    const resolved = [...lock.matchAll(/resolved "([^"]+)"/g)].map((m) => m[1] ?? '');
    assert.equal(resolved.length, 4, lock);
    for (const u of resolved) assert.ok(u.startsWith(`${br.url}/repo/npm/`), u);
    assert.match(lock, /integrity sha512-/);
    const again = join(work.path, 'y1-again');
    await mkdir(again);
    for (const f of ['package.json', 'yarn.lock', '.yarnrc']) await cp(join(dir, f), join(again, f));
    ok(await run(again, ['install', '--frozen-lockfile'], 'y1-cache-2'));
    await installed(again);
  });

  it('yarn 4: install over http with the node-modules linker; an immutable install from its lockfile with the cache gone', async () => {
    const yarn = await toolPath('yarn4');
    const dir = await writePackage(join(work.path, 'y4'), { name: 'y4', version: '1.0.0', dependencies: deps });
    // yarn ≥ 4.10 quarantines versions younger than npmMinimalAgeGate (1 day) by the packument's
    // `time`; every package here was published a moment ago.
    const yml = ['npmMinimalAgeGate: 0', 'nodeLinker: node-modules', `npmRegistryServer: "${reg().slice(0, -1)}"`, 'unsafeHttpWhitelist: ["127.0.0.1"]', 'enableGlobalCache: false', 'enableTelemetry: false', ''].join('\n');
    await writeFile(join(dir, '.yarnrc.yml'), yml);
    await writeFile(join(dir, 'yarn.lock'), '');
    const env = { YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_ENABLE_PROGRESS_BARS: 'false', YARN_IGNORE_PATH: '1' };
    const run = (args: string[]): Promise<RunResult> => runClient('node', [yarn, ...args], { cwd: dir, home: join(work.path, 'y4-home'), env });
    await mkdir(join(work.path, 'y4-home'), { recursive: true });
    ok(await run(['install']));
    await installed(dir);
    const lock = await readFile(join(dir, 'yarn.lock'), 'utf8');
    assert.match(lock, /"app-dep@npm:2\.0\.0":\n\s+version: 2\.0\.0\n\s+resolution: "app-dep@npm:2\.0\.0"/);
    assert.match(lock, /"@corp\/inhouse@npm:\^1\.0\.0":/);
    assert.match(lock, /checksum: /);
    await rm(join(dir, 'node_modules'), { recursive: true });
    await rm(join(dir, '.yarn'), { recursive: true });
    ok(await run(['install', '--immutable']));
    await installed(dir);
  });
});
