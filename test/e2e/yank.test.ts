import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { crateFile, indexPathOf, publishFrame } from '../helpers/cargo.ts';
import { makeDists, py, twineUpload } from '../helpers/pypi.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 26 (and Cargo beside it): yank and un-yank of a hosted version through the admin API and
// the web UI. PyPI's local index could yank (PEP 592), but nothing reached it.
describe('yanking hosted PyPI and Cargo versions through the admin API and the UI', () => {
  let br: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const perms = { read: ['anonymous'], write: ['writer'] };
  before(async () => {
    work = await tempDir('yank-');
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'py', format: 'pypi', type: 'local', permissions: perms },
          { name: 'crates', format: 'cargo', type: 'local', permissions: perms },
        ],
      },
    });
    for (const v of ['1.0', '2.0']) {
      const d = await makeDists(join(work.path, `py-${v}`), { name: 'corp-lib', version: v });
      const r = await twineUpload([d.wheel], `${br.url}/repo/py/`, join(work.path, 'home'), { user: 'writer', password: PASSWORDS.writer });
      assert.equal(r.code, 0, r.stderr);
    }
    const crate = await crateFile({ name: 'corp-crate', vers: '1.0.0' });
    const pub = await fetch(`${br.url}/repo/crates/api/v1/crates/new`, { method: 'PUT', body: publishFrame({ name: 'corp-crate', vers: '1.0.0', deps: [] }, crate), headers: { authorization: basic('writer') } });
    assert.equal(pub.status, 200, await pub.text());
  });
  after(async () => {
    await br?.close();
    await work?.cleanup();
  });

  const yank = (repo: string, path: string, method: 'PUT' | 'DELETE', auth?: string, reason?: string): Promise<Response> =>
    fetch(`${br.url}/api/v1/repos/${repo}/yank?path=${encodeURIComponent(path)}${reason ? `&reason=${encodeURIComponent(reason)}` : ''}`, { method, headers: auth ? { authorization: auth } : {} });
  const pipInstall = async (spec: string): Promise<string> => {
    const target = join(work.path, `t-${spec.replace(/\W/g, '_')}-${Date.now()}`);
    const r = await py('pip', ['install', '--no-deps', '--target', target, '--index-url', `${br.url}/repo/py/simple/`, spec], { cwd: work.path, home: join(work.path, 'home') });
    assert.equal(r.code, 0, r.stderr);
    return (await readdir(target)).filter((f) => f.endsWith('.dist-info')).join(',');
  };

  it('PyPI: anonymous 401, a reader 403, the writer yanks with a reason; pip skips the version unless it is pinned; un-yank brings it back', async () => {
    assert.equal((await yank('py', 'corp-lib==2.0', 'PUT')).status, 401);
    assert.equal((await yank('py', 'corp-lib==2.0', 'PUT', basic('reader'))).status, 403);
    assert.equal((await yank('py', 'corp-lib==9.9', 'PUT', basic('writer'))).status, 404);
    assert.equal((await yank('py', 'corp-lib', 'PUT', basic('writer'))).status, 400, 'a version must be named');
    const ok = await yank('py', 'corp-lib==2.0', 'PUT', basic('writer'), 'broken build');
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { changed: 1, path: 'corp-lib==2.0', yanked: true });
    const page = (await (await fetch(`${br.url}/repo/py/simple/corp-lib/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json()) as { files: Array<{ filename: string; yanked: string | boolean }> };
    assert.deepEqual(page.files.map((f) => [f.filename.split('-')[1], f.yanked]), [['1.0', false], ['2.0', 'broken build']]);
    assert.match(await pipInstall('corp-lib'), /corp_lib-1\.0\.dist-info/, 'the yanked version is skipped');
    assert.match(await pipInstall('corp-lib==2.0'), /corp_lib-2\.0\.dist-info/, 'a pin still installs it (PEP 592)');
    assert.equal((await yank('py', 'corp-lib==2.0', 'DELETE', basic('writer'))).status, 200);
    assert.match(await pipInstall('corp-lib'), /corp_lib-2\.0\.dist-info/);
  });

  it('Cargo: the admin API yanks and un-yanks a crate version in its index file', async () => {
    const line = async (): Promise<{ yanked: boolean }> => JSON.parse((await (await fetch(`${br.url}/repo/crates/index/${indexPathOf('corp-crate')}`)).text()).trim()) as { yanked: boolean };
    assert.equal((await yank('crates', 'corp-crate@1.0.0', 'PUT', basic('reader'))).status, 403);
    assert.equal((await yank('crates', 'corp-crate@1.0.0', 'PUT', basic('writer'))).status, 200);
    assert.equal((await line()).yanked, true);
    assert.equal((await yank('crates', 'corp-crate@1.0.0', 'DELETE', basic('writer'))).status, 200);
    assert.equal((await line()).yanked, false);
  });

  it('the UI: the writer gets a yank button with a reason (CSRF token required) and then an un-yank one; a reader gets none', async () => {
    const page = `/ui/repo/py?path=${encodeURIComponent('corp-lib==1.0')}`;
    const session = async (user: keyof typeof PASSWORDS): Promise<{ cookie: string; html: string }> => {
      const first = await fetch(`${br.url}/ui/login`);
      const anon = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const csrf = /name="csrf" value="([^"]+)"/.exec(await first.text())?.[1] ?? '';
      const res = await fetch(`${br.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ csrf, user, password: PASSWORDS[user], next: '/ui/' }), redirect: 'manual', headers: { cookie: anon, origin: br.url } });
      const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      return { cookie, html: await (await fetch(`${br.url}${page}`, { headers: { cookie } })).text() };
    };
    const reader = await session('reader');
    assert.doesNotMatch(reader.html, /\/yank"/, 'a reader sees no yank form');
    const w = await session('writer');
    assert.match(w.html, /<button type="submit">Yank corp-lib 1\.0<\/button>/);
    const csrf = /action="\/ui\/repo\/py\/yank"[^]*?name="csrf" value="([^"]+)"/.exec(w.html)?.[1] ?? '';
    const post = (body: Record<string, string>): Promise<Response> => fetch(`${br.url}/ui/repo/py/yank`, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual', headers: { cookie: w.cookie, origin: br.url } });
    assert.equal((await post({ path: 'corp-lib==1.0', reason: 'forged' })).status, 403, 'no CSRF token, no change');
    const done = await post({ csrf, path: 'corp-lib==1.0', reason: 'superseded', undo: '' });
    assert.equal(done.status, 303);
    const after = await (await fetch(`${br.url}${page}`, { headers: { cookie: w.cookie } })).text();
    assert.match(after, /<td>superseded<\/td>/);
    assert.match(after, /<button type="submit">Un-yank corp-lib 1\.0<\/button>/);
    assert.equal((await post({ csrf, path: 'corp-lib==1.0', undo: '1' })).status, 303);
    assert.match(await (await fetch(`${br.url}${page}`, { headers: { cookie: w.cookie } })).text(), /<button type="submit">Yank corp-lib 1\.0<\/button>/);
  });
});
