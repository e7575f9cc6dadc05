import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { npm, npmHome, startVerdaccio, toolPath, runClient, writePackage } from '../helpers/npm.ts';
import type { Verdaccio } from '../helpers/npm.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';
import { freePort } from '../helpers/net.ts';

type Lock = { packages: Record<string, { resolved?: string; integrity?: string }> };

// Issue 25: an npm remote over a real registry (Verdaccio) with the real npm and pnpm.
describe('npm remote over Verdaccio, with npm and pnpm', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Verdaccio;
  let relay: Relay;
  let br: TestServer;
  let homes = 0;
  const home = async (registry: string, token?: string): Promise<string> => npmHome(join(work.path, `home-${homes++}`), registry, token);
  const reg = (): string => `${br.url}/repo/npmjs/`;
  const app = join('x');

  before(async () => {
    work = await tempDir('npm-remote-');
    const port = await freePort();
    relay = await startRelay(`http://127.0.0.1:${port}`);
    up = await startVerdaccio(join(work.path, 'verdaccio'), { port, publicUrl: relay.url });
    const pub = await home(`${up.url}/`, up.token);
    const specs = [
      { name: 'left-pad-x', version: '1.0.0' },
      { name: 'left-pad-x', version: '1.1.0', padding: 200_000 },
      { name: '@corp/util', version: '1.0.0' },
      { name: 'with-bin', version: '1.0.0', bin: { 'with-bin': 'cli.js' } },
      { name: 'with-script', version: '1.0.0', scripts: { postinstall: 'node -e "require(\'fs\').writeFileSync(\'ran\', \'yes\')"' } },
      { name: 'app-dep', version: '2.0.0', dependencies: { 'left-pad-x': '^1.0.0', '@corp/util': '1.0.0', 'with-bin': '1.0.0' } },
    ];
    for (const s of specs) {
      const dir = await writePackage(join(work.path, 'src', `${s.name.replace('/', '_')}-${s.version}`), s);
      const r = await npm(['publish', '--registry', `${up.url}/`], { cwd: dir, home: pub });
      assert.equal(r.code, 0, r.stderr);
    }
    const dep = await npm(['deprecate', 'left-pad-x@1.0.0', 'use 1.1.0', '--registry', `${up.url}/`], { cwd: work.path, home: pub });
    assert.equal(dep.code, 0, dep.stderr);
    br = await startServer({
      config: {
        repos: [{ name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }],
      },
    });
    void app;
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('npm install through the remote: every file from binaryrepo, the lockfile naming it', async () => {
    const dir = join(work.path, 'proj1');
    await writePackage(dir, { name: 'proj1', version: '1.0.0', dependencies: { 'app-dep': '2.0.0', 'with-script': '1.0.0' } });
    const r = await npm(['install', '--no-audit'], { cwd: dir, home: await home(reg()) });
    assert.equal(r.code, 0, r.stderr);
    const lock = JSON.parse(await readFile(join(dir, 'package-lock.json'), 'utf8')) as Lock;
    const resolved = Object.entries(lock.packages).filter(([k]) => k !== '').map(([, v]) => v.resolved ?? '');
    assert.equal(resolved.length, 5);
    for (const u of resolved) assert.ok(u.startsWith(`${br.url}/repo/npmjs/`), u);
    assert.ok(resolved.includes(`${br.url}/repo/npmjs/@corp/util/-/util-1.0.0.tgz`), resolved.join(' '));
    assert.equal(await readFile(join(dir, 'node_modules/with-script/ran'), 'utf8'), 'yes');
    assert.equal(await readFile(join(dir, 'node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@1.1.0";\n');
  });

  it('serves abbreviated and full packuments by Accept, with validators, Vary and our tarball URLs', async () => {
    const abbr = await fetch(`${reg()}left-pad-x`, { headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' } });
    assert.equal(abbr.status, 200);
    assert.equal(abbr.headers.get('content-type'), 'application/vnd.npm.install-v1+json');
    assert.match(abbr.headers.get('vary') ?? '', /accept/i);
    const a = (await abbr.json()) as { versions: Record<string, { deprecated?: string; dist: { tarball: string; integrity: string }; readme?: string }> };
    assert.equal(a.versions['1.0.0']?.deprecated, 'use 1.1.0');
    assert.equal(a.versions['1.1.0']?.dist.tarball, `${br.url}/repo/npmjs/left-pad-x/-/left-pad-x-1.1.0.tgz`);
    assert.match(a.versions['1.1.0']?.dist.integrity ?? '', /^sha512-/);
    const full = await fetch(`${reg()}left-pad-x`);
    assert.equal(full.headers.get('content-type'), 'application/json');
    const f = (await full.json()) as { time: Record<string, string>; versions: Record<string, { dist: { tarball: string } }> };
    assert.ok(f.time['1.1.0']);
    assert.notEqual(abbr.headers.get('etag'), full.headers.get('etag'));
    const again = await fetch(`${reg()}left-pad-x`, { headers: { 'if-none-match': full.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    // Behind a proxy: the URLs name the host and prefix the client used, never the upstream.
    const proxied = (await (await fetch(`${reg()}left-pad-x`, { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'npm.example.com', 'x-forwarded-prefix': '/mirror' } })).json()) as typeof f;
    assert.equal(proxied.versions['1.0.0']?.dist.tarball, 'https://npm.example.com/mirror/repo/npmjs/left-pad-x/-/left-pad-x-1.0.0.tgz');
    const gz = await fetch(`${reg()}left-pad-x`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.status, 200);
    const scoped = await fetch(`${reg()}@corp%2futil`);
    assert.equal(scoped.status, 200);
    const slash = await fetch(`${reg()}@corp/util`);
    assert.equal(slash.status, 200);
    assert.equal(((await scoped.json()) as { name: string }).name, '@corp/util');
  });

  it('npm ci from a lockfile made against the upstream works through us', async () => {
    const dir = join(work.path, 'proj-direct');
    await writePackage(dir, { name: 'proj-direct', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
    const direct = await npm(['install', '--no-audit'], { cwd: dir, home: await home(`${up.url}/`) });
    assert.equal(direct.code, 0, direct.stderr);
    const lock = await readFile(join(dir, 'package-lock.json'), 'utf8');
    assert.ok(lock.includes(`${relay.url}/left-pad-x/-/left-pad-x-1.1.0.tgz`), lock);
    await rm(join(dir, 'node_modules'), { recursive: true });
    relay.reset();
    const r = await npm(['ci', '--no-audit', '--replace-registry-host=127.0.0.1'], { cwd: dir, home: await home(reg()) });
    assert.equal(r.code, 0, r.stderr + br.logs.filter((l) => l.includes('tgz')).join('\n') + JSON.stringify([...relay.requests]));
    assert.ok(relay.count('GET', '/left-pad-x/-/left-pad-x-1.1.0.tgz') <= 1);
    assert.equal(await readFile(join(dir, 'node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@1.1.0";\n');
    assert.ok(br.logs.some((l) => l.includes('/repo/npmjs/left-pad-x/-/left-pad-x-1.1.0.tgz')), 'the tarball came through binaryrepo');
  });

  it('8 concurrent npm ci of one lockfile with cold caches: one upstream GET per tarball', async () => {
    await closeAll(() => br.close());
    br = await startServer({ config: { repos: [{ name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }] } });
    const base = join(work.path, 'proj-many');
    await writePackage(base, { name: 'proj-many', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
    const lockDir = join(work.path, 'proj-lock');
    await writePackage(lockDir, { name: 'proj-many', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
    const made = await npm(['install', '--no-audit', '--package-lock-only'], { cwd: lockDir, home: await home(`${up.url}/`) });
    assert.equal(made.code, 0, made.stderr);
    const lock = await readFile(join(lockDir, 'package-lock.json'), 'utf8');
    const dirs: string[] = [];
    for (let i = 0; i < 8; i++) {
      const d = join(work.path, `ci-${i}`);
      await writePackage(d, { name: 'proj-many', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
      await writeFile(join(d, 'package-lock.json'), lock);
      dirs.push(d);
    }
    relay.reset();
    const homesFor = await Promise.all(dirs.map(() => home(reg())));
    const runs = await Promise.all(dirs.map((d, i) => npm(['ci', '--no-audit', '--replace-registry-host=127.0.0.1'], { cwd: d, home: homesFor[i] ?? '' })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    for (const t of ['/left-pad-x/-/left-pad-x-1.1.0.tgz', '/@corp/util/-/util-1.0.0.tgz', '/app-dep/-/app-dep-2.0.0.tgz', '/with-bin/-/with-bin-1.0.0.tgz']) {
      assert.equal(relay.count('GET', t), 1, `${t}: ${JSON.stringify([...relay.requests])}`);
    }
  });

  it('pnpm install, then pnpm install --frozen-lockfile from a clean store', async () => {
    const pnpm = await toolPath('pnpm');
    const dir = join(work.path, 'proj-pnpm');
    await writePackage(dir, { name: 'proj-pnpm', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
    const h = await home(reg());
    const first = await runClient(pnpm, ['install', '--registry', reg()], { cwd: dir, home: h });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await rm(join(dir, 'node_modules'), { recursive: true });
    const again = await runClient(pnpm, ['install', '--frozen-lockfile', '--registry', reg()], { cwd: dir, home: await home(reg()) });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /downloaded 4/);
    assert.equal(await readFile(join(dir, 'node_modules/.pnpm/left-pad-x@1.1.0/node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@1.1.0";\n');
    const lock = await readFile(join(dir, 'pnpm-lock.yaml'), 'utf8');
    assert.match(lock, /left-pad-x@1\.1\.0:\n\s+resolution: \{integrity: sha512-/);
  });

  it('a version published upstream after the packument was cached: its tarball is found (the packument is asked again)', async () => {
    await closeAll(() => br.close());
    br = await startServer({ config: { repos: [{ name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 3600 } }] } });
    const before = (await (await fetch(`${reg()}left-pad-x`)).json()) as { versions: Record<string, unknown> };
    assert.equal(before.versions['1.2.0'], undefined);
    const dir = await writePackage(join(work.path, 'src', 'left-1.2.0'), { name: 'left-pad-x', version: '1.2.0' });
    const p = await npm(['publish', '--registry', `${up.url}/`], { cwd: dir, home: await home(`${up.url}/`, up.token) });
    assert.equal(p.code, 0, p.stderr);
    const t = await fetch(`${reg()}left-pad-x/-/left-pad-x-1.2.0.tgz`);
    assert.equal(t.status, 200);
    assert.ok((await t.arrayBuffer()).byteLength > 100);
  });

  it('the upstream stopped: the same npm ci succeeds from the cache', async () => {
    await closeAll(() => br.close());
    br = await startServer({ config: { repos: [{ name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: relay.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }] } });
    const dir = join(work.path, 'proj-offline');
    await writePackage(dir, { name: 'proj-offline', version: '1.0.0', dependencies: { 'app-dep': '2.0.0' } });
    const h = await home(reg());
    const first = await npm(['install', '--no-audit'], { cwd: dir, home: h });
    assert.equal(first.code, 0, first.stderr);
    await rm(join(dir, 'node_modules'), { recursive: true });
    await up.stop();
    const down = await fetch(`${up.url}/-/ping`).then(() => 'up', () => 'down');
    assert.equal(down, 'down');
    const r = await npm(['ci', '--no-audit'], { cwd: dir, home: await home(reg()) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(dir, 'node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@1.2.0";\n');
    // The packument is past its TTL (0): served stale, with a 200, while the upstream is gone.
    const p = await fetch(`${reg()}app-dep`);
    assert.equal(p.status, 200);
    assert.equal(p.headers.get('x-cache'), 'STALE');
    const missing = await fetch(`${reg()}never-cached`);
    // The relay in front of the stopped upstream still answers (500): a bad gateway, never a 404.
    assert.equal(missing.status, 502);
    assert.match(((await missing.json()) as { error: string }).error, /127\.0\.0\.1/);
  });
});
