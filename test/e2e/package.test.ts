import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/net.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

// `npm install -g` / `npx binaryrepo` (issue 14): the packed tarball, installed in a clean folder,
// gives a working `binaryrepo` command. The install runs --offline with an empty npm cache, as on a
// fresh machine (issue 24, 1): every dependency must come from inside the tarball. package.json
// bundles them all (`bundleDependencies: true`), so the list cannot drift from `dependencies`.
describe('the npm package', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let bin: string;
  before(async () => {
    dir = await tempDir('pack-');
    const pack = await run('npm', ['pack', '--pack-destination', dir.path], { cwd: ROOT, timeoutMs: 120_000 });
    assert.equal(pack.code, 0, pack.stderr);
    const tarball = join(dir.path, pack.stdout.trim().split('\n').at(-1) ?? '');
    const app = join(dir.path, 'app');
    await run('mkdir', ['-p', app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    const emptyCache = join(dir.path, 'npm-cache');
    const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: app, timeoutMs: 300_000, env: { ...process.env, npm_config_cache: emptyCache } });
    assert.equal(install.code, 0, install.stderr);
    bin = join(app, 'node_modules', '.bin', 'binaryrepo');
  });
  after(() => dir?.cleanup());

  it('binaryrepo --help, config check and serve work from the installed tarball', async () => {
    const help = await run(bin, ['--help']);
    assert.equal(help.code, 0, help.stderr);
    for (const c of ['serve', 'warm', 'export', 'import', 'config check', 'gc', 'fsck']) assert.ok(help.stdout.includes(`binaryrepo ${c}`), c);
    const bad = await run(bin, ['gc', '--dryrun']);
    assert.equal(bad.code, 2, 'a mistyped flag is an error');
    assert.match(bad.stderr, /unknown option --dryrun/);

    const cfg = join(dir.path, 'config.json');
    await writeFile(cfg, JSON.stringify({ listen: '127.0.0.1:0', storage: { type: 'fs', path: join(dir.path, 'data') }, repos: [{ name: 'files', format: 'generic', type: 'local' }] }));
    const check = await run(bin, ['config', 'check', cfg]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /valid; 1 repositories \(files: generic local\)/);
    await writeFile(join(dir.path, 'broken.json'), JSON.stringify({ repos: [{ name: 'x', format: 'docker', type: 'remote' }] }));
    const broken = await run(bin, ['config', 'check', join(dir.path, 'broken.json')]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /upstream/);

    const child = spawn(bin, ['serve', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /"msg":"listening".*?"port":(\d+)/.exec(out);
          if (m?.[1]) res(`http://127.0.0.1:${m[1]}`);
        });
        child.once('exit', (code) => rej(new Error(`serve exited with ${code}: ${out}`)));
      });
      const health = await fetch(`${url}/-/health`);
      assert.equal(health.status, 200);
      const put = await fetch(`${url}/repo/files/a.txt`, { method: 'PUT', body: 'hi' });
      assert.equal(put.status, 201);
      assert.equal(await (await fetch(`${url}/repo/files/a.txt`)).text(), 'hi');
    } finally {
      child.kill('SIGTERM');
    }
  });
});
