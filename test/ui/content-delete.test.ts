import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { buildDeb } from '../helpers/debian.ts';
import { makeDists, twineUpload } from '../helpers/pypi.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Logs in through the form as a browser does: the session cookie and a page's CSRF token. */
async function login(url: string, user: keyof typeof PASSWORDS, page: string): Promise<{ cookie: string; csrf: string; html: string }> {
  const first = await fetch(`${url}/ui/login`);
  const anon = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await first.text())?.[1] ?? '';
  const res = await fetch(`${url}/ui/login`, { method: 'POST', body: new URLSearchParams({ csrf, user, password: PASSWORDS[user], next: '/ui/' }), redirect: 'manual', headers: { cookie: anon, origin: url } });
  assert.equal(res.status, 303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const html = await (await fetch(`${url}${page}`, { headers: { cookie } })).text();
  return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', html };
}

// Issues 26, 27 and 29: hosted content deleted through the admin API and the web UI, with the repo's delete permission.
describe('deleting hosted Maven, PyPI and Debian content through the admin API and the UI', () => {
  let br: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const perms = { read: ['authenticated'], write: ['writer'], delete: ['writer'] };
  before(async () => {
    work = await tempDir('content-delete-');
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'm2', format: 'maven', type: 'local', permissions: perms },
          { name: 'debs', format: 'debian', type: 'local', architectures: ['amd64'], permissions: perms },
          { name: 'py', format: 'pypi', type: 'local', permissions: perms },
        ],
      },
    });
    for (const v of ['1.0', '2.0']) {
      for (const f of [`lib-${v}.pom`, `lib-${v}.jar`]) assert.equal((await fetch(`${br.url}/repo/m2/org/corp/lib/${v}/${f}`, { method: 'PUT', body: `${v} ${f}`, headers: { authorization: basic('writer') } })).status, 201);
    }
    for (const v of ['1.0', '2.0']) {
      const d = await makeDists(join(work.path, `py-${v}`), { name: 'corp-lib', version: v });
      const r = await twineUpload([d.wheel, d.sdist], `${br.url}/repo/py/`, join(work.path, 'home'), { user: 'writer', password: PASSWORDS.writer });
      assert.equal(r.code, 0, r.stderr);
    }
    for (const v of ['1.0', '2.0']) {
      const body = await readFile(await buildDeb(work.path, { name: 'tool', version: v }));
      assert.equal((await fetch(`${br.url}/repo/debs/upload/stable/main`, { method: 'PUT', body, headers: { authorization: basic('writer') } })).status, 201);
    }
  });
  after(async () => {
    await br?.close();
    await work?.cleanup();
  });

  const del = (repo: string, path: string, auth?: string): Promise<Response> => fetch(`${br.url}/api/v1/repos/${repo}/content?path=${encodeURIComponent(path)}`, { method: 'DELETE', headers: auth ? { authorization: auth } : {} });

  it('the admin API: anonymous 401, a reader 403, the writer (delete permission) 200; the metadata and the index follow; nothing there is 404', async () => {
    assert.equal((await del('m2', 'org/corp/lib/1.0')).status, 401);
    assert.equal((await del('m2', 'org/corp/lib/1.0', basic('reader'))).status, 403);
    assert.equal((await fetch(`${br.url}/repo/m2/org/corp/lib/1.0/lib-1.0.jar`, { headers: { authorization: basic('reader') } })).status, 200);
    const ok = await del('m2', 'org/corp/lib/1.0', basic('writer'));
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { removed: 2, parent: 'org/corp/lib' });
    assert.equal((await fetch(`${br.url}/repo/m2/org/corp/lib/1.0/lib-1.0.jar`, { headers: { authorization: basic('reader') } })).status, 404);
    const md = await (await fetch(`${br.url}/repo/m2/org/corp/lib/maven-metadata.xml`, { headers: { authorization: basic('reader') } })).text();
    assert.deepEqual([...md.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1]), ['2.0']);
    assert.equal((await del('m2', 'org/corp/lib/1.0', basic('writer'))).status, 404);
    const d = await del('debs', 'stable/tool/1.0', basic('writer'));
    assert.equal(d.status, 200, await d.clone().text());
    const packages = await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`, { headers: { authorization: basic('reader') } })).text();
    assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]), ['2.0']);
    const p = await del('py', 'corp-lib==1.0', basic('writer'));
    assert.equal(p.status, 200, await p.clone().text());
    assert.deepEqual(await p.json(), { removed: 2, parent: 'corp-lib' });
    const simple = await (await fetch(`${br.url}/repo/py/simple/corp-lib/`, { headers: { authorization: basic('reader') } })).text();
    assert.doesNotMatch(simple, /corp_lib-1\.0/);
    assert.match(simple, /corp_lib-2\.0/);
    assert.equal((await del('py', 'corp-lib', basic('writer'))).status, 400);
    assert.equal((await del('nothere', 'x', basic('writer'))).status, 404);
  });

  it('the UI: the writer sees a delete button and it works (CSRF token required); a reader sees none and a forged post is refused', async () => {
    const page = '/ui/repo/debs?path=' + encodeURIComponent('stable/tool');
    const reader = await login(br.url, 'reader', page);
    assert.ok(reader.html.includes('tool'), reader.html);
    assert.doesNotMatch(reader.html, /Delete /);
    const asReader = await fetch(`${br.url}/ui/repo/debs/delete`, { method: 'POST', body: new URLSearchParams({ csrf: reader.csrf, path: 'stable/tool' }), redirect: 'manual', headers: { cookie: reader.cookie, origin: br.url } });
    assert.equal(asReader.status, 403);
    const writer = await login(br.url, 'writer', page);
    assert.match(writer.html, /<button type="submit" class="danger">Delete /);
    const forged = await fetch(`${br.url}/ui/repo/debs/delete`, { method: 'POST', body: new URLSearchParams({ csrf: 'wrong', path: 'stable/tool' }), redirect: 'manual', headers: { cookie: writer.cookie, origin: br.url } });
    assert.equal(forged.status, 403);
    const res = await fetch(`${br.url}/ui/repo/debs/delete`, { method: 'POST', body: new URLSearchParams({ csrf: writer.csrf, path: 'stable/tool' }), redirect: 'manual', headers: { cookie: writer.cookie, origin: br.url } });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/ui/repo/debs?path=stable');
    const packages = await (await fetch(`${br.url}/repo/debs/dists/stable/main/binary-amd64/Packages`, { headers: { authorization: basic('reader') } })).text();
    assert.doesNotMatch(packages, /Package: tool/);
  });
});
