import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { makeDists, py, startPypiserver, twineUpload } from '../helpers/pypi.ts';
import type { Pypiserver } from '../helpers/pypi.ts';
import { startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 26 with issue 14's air gap: Python files exported from a hosted index and from a cache of a
// real pypiserver, imported into another server's hosted index, installed with pip there.
describe('PyPI bundles: export from a hosted and a remote index, import twice, pip install from the imported repo', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let up: Pypiserver;
  const local = { name: 'corp', format: 'pypi', type: 'local' };
  let upstreamUrl = '';

  before(async () => {
    dir = await tempDir('pypi-bundle-');
    up = await startPypiserver(join(dir.path, 'ps'));
    upstreamUrl = up.url;
    const pub = await makeDists(join(dir.path, 'pub'), { name: 'public-lib', version: '2.0' });
    assert.equal((await twineUpload([pub.wheel, pub.sdist], `${up.url}/`, join(dir.path, 'home'))).code, 0);
    const srv = await startServer({ dataDir: join(dir.path, 'a'), config: { repos: [local] } });
    try {
      for (const v of ['1.0', '1.1']) {
        const d = await makeDists(join(dir.path, `corp-${v}`), { name: 'corp-lib', version: v });
        const r = await twineUpload([d.wheel, d.sdist], `${srv.url}/repo/corp/`, join(dir.path, 'home'));
        assert.equal(r.code, 0, r.stderr);
      }
      assert.equal((await fetch(`${srv.url}/api/v1/repos/corp/yank?path=corp-lib%3D%3D1.1&reason=bad`, { method: 'PUT' })).status, 200);
    } finally {
      await srv.close();
    }
  });
  after(async () => {
    await up?.stop();
    await dir?.cleanup();
  });

  it('every file of each version travels with its yank; a second import stores nothing; pip installs from the imported index', async () => {
    const a = join(dir.path, 'a.json');
    const b = join(dir.path, 'b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'a') }, repos: [local, { name: 'pypi', format: 'pypi', type: 'remote', upstream: { url: `${upstreamUrl}/simple/` } }] }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'b') }, repos: [local] }));
    const hosted = join(dir.path, 'hosted.tar');
    const cached = join(dir.path, 'cached.tar');
    const ex1 = await cli(['export', 'corp', 'corp-lib==1.0', 'Corp_Lib==1.1', '-o', hosted, '--config', a]);
    assert.equal(ex1.code, 0, ex1.stderr);
    // The remote has cached nothing: the export fetches (and verifies) both files first.
    const ex2 = await cli(['export', 'pypi', 'public-lib==2.0', '-o', cached, '--config', a]);
    assert.equal(ex2.code, 0, ex2.stderr);
    assert.equal((await cli(['export', 'corp', 'corp-lib==9.9', '-o', join(dir.path, 'none.tar'), '--config', a])).code !== 0, true, 'a version that is not there fails the export');
    for (const round of [1, 2]) {
      for (const [tar, n] of [[hosted, 4], [cached, 2]] as const) {
        const im = await cli(['import', tar, '--repo', 'corp', '--config', b]);
        assert.equal(im.code, 0, im.stderr);
        assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? n : 0, skipped: round === 1 ? 0 : n, items: n });
      }
    }
    const down = await startServer({ dataDir: join(dir.path, 'b'), config: { repos: [local] } });
    try {
      const page = (await (await fetch(`${down.url}/repo/corp/simple/corp-lib/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json()) as { files: Array<{ filename: string; yanked: string | boolean }> };
      assert.deepEqual(page.files.map((f) => [f.filename, f.yanked]).sort(), [['corp_lib-1.0-py3-none-any.whl', false], ['corp_lib-1.0.tar.gz', false], ['corp_lib-1.1-py3-none-any.whl', 'bad'], ['corp_lib-1.1.tar.gz', 'bad']]);
      const target = join(dir.path, 'site');
      const r = await py('pip', ['install', '--no-deps', '--target', target, '--index-url', `${down.url}/repo/corp/simple/`, 'corp-lib', 'public-lib==2.0'], { cwd: dir.path, home: join(dir.path, 'home') });
      assert.equal(r.code, 0, r.stderr);
      const installed = (await readdir(target)).filter((f) => f.endsWith('.dist-info')).sort();
      assert.deepEqual(installed, ['corp_lib-1.0.dist-info', 'public_lib-2.0.dist-info'], 'the yanked 1.1 is skipped by an unpinned install');
    } finally {
      await down.close();
    }
  });
});
