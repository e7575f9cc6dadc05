import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { npm, npmHome, publishDoc, startVerdaccio, writePackage } from '../helpers/npm.ts';
import type { Verdaccio } from '../helpers/npm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type Packument = { name: string; 'dist-tags': Record<string, string>; versions: Record<string, { deprecated?: string; dist: { tarball: string; integrity: string; shasum: string } }>; time: Record<string, string> };

// Issue 25: hosted npm repos and a virtual over a hosted and a remote one, with the real npm.
describe('npm local and virtual repos with the real npm', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Verdaccio;
  let br: TestServer;
  let homes = 0;
  let token = '';
  const home = async (registry: string, t?: string): Promise<string> => npmHome(join(work.path, `home-${homes++}`), registry, t);
  const corp = (): string => `${br.url}/repo/corp/`;
  const virt = (): string => `${br.url}/repo/npm/`;
  const put = (url: string, body: string, auth = basic('writer')): Promise<Response> => fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: auth }, body });

  before(async () => {
    work = await tempDir('npm-local-');
    up = await startVerdaccio(join(work.path, 'verdaccio'));
    const pub = await home(`${up.url}/`, up.token);
    for (const s of [{ name: 'left-pad-x', version: '1.0.0' }, { name: 'left-pad-x', version: '1.1.0' }, { name: 'public-only', version: '3.0.0' }, { name: '@corp/secret', version: '0.0.1' }]) {
      const r = await npm(['publish'], { cwd: await writePackage(join(work.path, 'src', `${s.name.replace('/', '_')}-${s.version}`), s), home: pub });
      assert.equal(r.code, 0, r.stderr);
    }
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'corp', format: 'npm', type: 'local', maxTarballBytes: 1 << 20, permissions: { read: ['anonymous'], write: ['writer'], delete: ['writer'] } },
          { name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: up.url }, permissions: { read: ['anonymous'] } },
          { name: 'npm', format: 'npm', type: 'virtual', members: ['corp', 'npmjs'], deployTo: 'corp', filters: { npmjs: { exclude: ['@corp/*'] } }, permissions: { read: ['anonymous'], write: ['writer'], delete: ['writer'] } },
        ],
      },
    });
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  it('login (legacy) answers an access token; whoami and ping with it', async () => {
    const bad = await put(`${corp()}-/user/org.couchdb.user:writer`, JSON.stringify({ name: 'writer', password: 'wrong' }), '');
    assert.equal(bad.status, 401);
    const res = await put(`${corp()}-/user/org.couchdb.user:writer`, JSON.stringify({ name: 'writer', password: PASSWORDS.writer }), '');
    assert.equal(res.status, 201);
    token = ((await res.json()) as { token: string }).token;
    assert.match(token, /^brt_/);
    const h = await home(corp(), token);
    const who = await npm(['whoami'], { cwd: work.path, home: h });
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout.trim(), 'writer');
    const ping = await npm(['ping'], { cwd: work.path, home: h });
    assert.equal(ping.code, 0, ping.stderr);
    const anon = await npm(['whoami'], { cwd: work.path, home: await home(corp(), 'brt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') });
    assert.notEqual(anon.code, 0);
  });

  it('npm token list and revoke (the real npm) over the access tokens; create (as npm sends it) needs the password again', async () => {
    const h = await home(corp(), token);
    const noPassword = await fetch(`${corp()}-/npm/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'wrong', readonly: true }) });
    assert.equal(noPassword.status, 401);
    const made = await fetch(`${corp()}-/npm/v1/tokens`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORDS.writer, readonly: true, cidr_whitelist: [] }) });
    assert.equal(made.status, 200, await made.clone().text());
    const ro = (await made.json()) as { token: string; key: string; readonly: boolean };
    assert.equal(ro.readonly, true);
    // The read-only token reads but cannot publish.
    const roHome = await home(corp(), ro.token);
    assert.equal((await npm(['whoami'], { cwd: work.path, home: roHome })).code, 0);
    const roPub = await npm(['publish'], { cwd: await writePackage(join(work.path, 'ro', 'x'), { name: 'ro-attempt', version: '1.0.0' }), home: roHome });
    assert.notEqual(roPub.code, 0);
    const list = await npm(['token', 'list', '--json'], { cwd: work.path, home: h });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout) as Array<{ key: string; readonly: boolean }>;
    assert.ok(listed.some((t) => t.key === ro.key && t.readonly), list.stdout);
    const revoke = await npm(['token', 'revoke', ro.key.slice(0, 8)], { cwd: work.path, home: h });
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.notEqual((await npm(['whoami'], { cwd: work.path, home: roHome })).code, 0, 'the revoked token no longer works');
    const after = JSON.parse((await npm(['token', 'list', '--json'], { cwd: work.path, home: h })).stdout) as Array<{ key: string }>;
    assert.ok(!after.some((t) => t.key === ro.key));
    assert.equal((await fetch(`${corp()}-/npm/v1/tokens`)).status, 401);
  });

  it('npm login (its default web flow): npm prints the page, the user approves it in the web UI, npm gets a token for the repo', async () => {
    const h = await home(corp());
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: h, npm_config_userconfig: join(h, '.npmrc'), npm_config_cache: join(h, 'npm-cache'), npm_config_update_notifier: 'false', NO_COLOR: '1' };
    const child = spawn('npm', ['login', '--auth-type=web', '--registry', corp()], { cwd: work.path, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number>((res) => child.once('exit', (code) => res(code ?? 1)));
    const url = await new Promise<string>((res, rej) => {
      const look = (d: Buffer): void => {
        out += d.toString();
        const m = /(http:\/\/\S+\/ui\/cli-login\?id=[A-Za-z0-9]+)/.exec(out);
        if (m?.[1]) res(m[1]);
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
      void exited.then((code) => rej(new Error(`npm exited (${code}) before printing a login URL: ${out}`)));
    });
    // The browser: the page asks for a login first, then shows what asks and an Approve button.
    const page = new URL(url);
    const first = await fetch(`${br.url}/ui/login`);
    const anon = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const csrf0 = /name="csrf" value="([^"]+)"/.exec(await first.text())?.[1] ?? '';
    const logged = await fetch(`${br.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ csrf: csrf0, user: 'writer', password: PASSWORDS.writer, next: `${page.pathname}${page.search}` }), redirect: 'manual', headers: { cookie: anon, origin: br.url } });
    assert.equal(logged.status, 303);
    const cookie = (logged.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const approvePage = await (await fetch(`${br.url}${page.pathname}${page.search}`, { headers: { cookie } })).text();
    assert.match(approvePage, /repository <strong>corp<\/strong> as <strong>writer<\/strong>/);
    const csrf = /name="csrf" value="([^"]+)"/.exec(approvePage)?.[1] ?? '';
    const ok = await fetch(`${br.url}/ui/cli-login`, { method: 'POST', body: new URLSearchParams({ csrf, id: page.searchParams.get('id') ?? '' }), headers: { cookie, origin: br.url } });
    assert.equal(ok.status, 200);
    assert.equal(await exited, 0, out);
    const rc = await readFile(join(h, '.npmrc'), 'utf8');
    assert.match(rc, /:_authToken=brt_/);
    const who = await npm(['whoami'], { cwd: work.path, home: h });
    assert.equal(who.stdout.trim(), 'writer', who.stderr);
    // Collected once: the poll URL is spent, the same approval cannot be replayed.
    assert.equal((await fetch(`${br.url}/ui/cli-login`, { method: 'POST', body: new URLSearchParams({ csrf, id: page.searchParams.get('id') ?? '' }), headers: { cookie, origin: br.url } })).status, 404);
  });

  it('npm publish, npm view, a republish refused, dist-tags, deprecate, unpublish of a version', async () => {
    const h = await home(corp(), token);
    for (const v of ['1.0.0', '1.1.0', '2.0.0-rc.1']) {
      const dir = await writePackage(join(work.path, 'own', `tool-${v}`), { name: '@corp/tool', version: v, bin: { 'corp-tool': 'cli.js' }, readme: '# corp tool' });
      const r = await npm(['publish', ...(v.includes('rc') ? ['--tag', 'next'] : [])], { cwd: dir, home: h });
      assert.equal(r.code, 0, r.stderr);
    }
    const again = await npm(['publish'], { cwd: join(work.path, 'own', 'tool-1.1.0'), home: h });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /409|previously published/);
    const view = await npm(['view', '@corp/tool', '--json'], { cwd: work.path, home: h });
    assert.equal(view.code, 0, view.stderr);
    const v = JSON.parse(view.stdout) as { version: string; 'dist-tags': Record<string, string>; versions: string[]; bin: Record<string, string> };
    assert.equal(v.version, '1.1.0');
    assert.deepEqual(v['dist-tags'], { latest: '1.1.0', next: '2.0.0-rc.1' });
    assert.deepEqual(v.versions, ['1.0.0', '1.1.0', '2.0.0-rc.1']);
    assert.deepEqual(v.bin, { 'corp-tool': 'cli.js' });
    assert.equal((await npm(['dist-tag', 'add', '@corp/tool@1.0.0', 'stable'], { cwd: work.path, home: h })).code, 0);
    const ls = await npm(['dist-tag', 'ls', '@corp/tool'], { cwd: work.path, home: h });
    assert.match(ls.stdout, /stable: 1\.0\.0/);
    assert.equal((await npm(['dist-tag', 'rm', '@corp/tool', 'stable'], { cwd: work.path, home: h })).code, 0);
    const dep = await npm(['deprecate', '@corp/tool@1.0.0', 'too old'], { cwd: work.path, home: h });
    assert.equal(dep.code, 0, dep.stderr);
    const un = await npm(['unpublish', '@corp/tool@2.0.0-rc.1'], { cwd: work.path, home: h });
    assert.equal(un.code, 0, un.stderr);
    const p = (await (await fetch(`${corp()}@corp%2ftool`)).json()) as Packument;
    assert.deepEqual(Object.keys(p.versions), ['1.0.0', '1.1.0']);
    assert.deepEqual(p['dist-tags'], { latest: '1.1.0' });
    assert.equal(p.versions['1.0.0']?.deprecated, 'too old');
    assert.equal(p.versions['1.1.0']?.deprecated, undefined);
    assert.equal(p.versions['1.1.0']?.dist.tarball, `${br.url}/repo/corp/@corp/tool/-/tool-1.1.0.tgz`);
    assert.equal((await fetch(`${corp()}@corp/tool/-/tool-2.0.0-rc.1.tgz`)).status, 404);
    // An unpublished version cannot be published again (npm's rule: a version names one tarball forever).
    const re = await npm(['publish', '--tag', 'next'], { cwd: join(work.path, 'own', 'tool-2.0.0-rc.1'), home: h });
    assert.notEqual(re.code, 0);
    const install = join(work.path, 'use-tool');
    await writePackage(install, { name: 'use-tool', version: '1.0.0', dependencies: { '@corp/tool': '^1.0.0' } });
    const i = await npm(['install', '--no-audit'], { cwd: install, home: await home(corp()) });
    assert.equal(i.code, 0, i.stderr);
    assert.equal(await readFile(join(install, 'node_modules/@corp/tool/index.js'), 'utf8'), 'module.exports = "@corp/tool@1.1.0";\n');
    const search = await npm(['search', 'corp', '--json'], { cwd: work.path, home: h });
    assert.equal(search.code, 0, search.stderr);
    assert.deepEqual((JSON.parse(search.stdout) as Array<{ name: string }>).map((x) => x.name), ['@corp/tool']);
  });

  it('writes need the right user; reads of a public repo do not', async () => {
    const tgz = new TextEncoder().encode('not really a tarball, but bytes');
    assert.equal((await put(`${corp()}nobody`, publishDoc('nobody', '1.0.0', tgz), '')).status, 401);
    assert.equal((await put(`${corp()}nobody`, publishDoc('nobody', '1.0.0', tgz), basic('reader'))).status, 403);
    const del = await fetch(`${corp()}@corp%2ftool/-rev/1`, { method: 'DELETE', headers: { authorization: basic('reader') } });
    assert.equal(del.status, 403);
    assert.equal((await fetch(`${corp()}@corp%2ftool`)).status, 200);
  });

  it('bad publishes get npm-style JSON errors and store nothing', async () => {
    const tgz = new TextEncoder().encode('bytes of a tarball');
    const cases: Array<[string, string, number, RegExp]> = [
      ['broken', '{"name": "broken", "versions": {', 400, /ends early|not JSON/],
      ['notb64', publishDoc('notb64', '1.0.0', tgz, { data: '!!!not base64!!!' }), 400, /base64/],
      ['badint', publishDoc('badint', '1.0.0', tgz, { integrity: `sha512-${createHash('sha512').update('other').digest('base64')}` }), 400, /integrity/],
      ['Upper', publishDoc('Upper', '1.0.0', tgz), 400, /lower-case/],
      ['other', publishDoc('not-other', '1.0.0', tgz), 400, /names/],
      ['big', publishDoc('big', '1.0.0', new Uint8Array(2 << 20)), 413, /exceeds/],
      ['badver', publishDoc('badver', 'v1', tgz), 400, /semver/],
    ];
    for (const [name, body, status, msg] of cases) {
      const r = await put(`${corp()}${name}`, body);
      assert.equal(r.status, status, `${name}: ${r.status}`);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.match(((await r.json()) as { error: string }).error, msg, name);
      assert.equal((await fetch(`${corp()}${name}`)).status, name === 'Upper' ? 404 : 404, name);
    }
    for (const path of ['..%2f..%2fetc', '@corp%2f..', 'x/-/..%2f..%2fsecret.tgz', 'x/-/a.tgz/..']) {
      const r = await fetch(`${corp()}${path}`);
      assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
      assert.ok(((await r.json()) as { error?: string }).error, path);
    }
  });

  it('8 concurrent publishes of different versions of one package lose nothing', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => publishDoc('busy', `1.0.${i}`, new TextEncoder().encode(`tarball ${i}`)));
    const answers = await Promise.all(bodies.map((b) => put(`${corp()}busy`, b)));
    for (const a of answers) assert.equal(a.status, 201, String(a.status));
    const p = (await (await fetch(`${corp()}busy`)).json()) as Packument;
    assert.deepEqual(Object.keys(p.versions).sort(), Array.from({ length: 8 }, (_, i) => `1.0.${i}`));
    for (let i = 0; i < 8; i++) {
      const t = await fetch(p.versions[`1.0.${i}`]?.dist.tarball ?? '');
      assert.equal(await t.text(), `tarball ${i}`);
    }
  });

  it('virtual: a name a local member has is answered from local members only (dependency confusion)', async () => {
    // A login token is scoped to the repo logged in at: log in at the virtual to publish through it.
    const login = await put(`${virt()}-/user/org.couchdb.user:writer`, JSON.stringify({ name: 'writer', password: PASSWORDS.writer }), '');
    assert.equal(login.status, 201);
    const vt = ((await login.json()) as { token: string }).token;
    const corpOnly = await npm(['publish'], { cwd: await writePackage(join(work.path, 'own', 'left-8'), { name: 'left-pad-x', version: '8.0.0' }), home: await home(virt(), token) });
    assert.notEqual(corpOnly.code, 0, 'a token for corp is not one for the virtual over it');
    const h = await home(virt(), vt);
    const dir = await writePackage(join(work.path, 'own', 'left-9'), { name: 'left-pad-x', version: '9.0.0' });
    const pub = await npm(['publish'], { cwd: dir, home: h });
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal((await fetch(`${corp()}left-pad-x`)).status, 200, 'published through the virtual into its deployTo');
    const p = (await (await fetch(`${virt()}left-pad-x`)).json()) as Packument;
    assert.deepEqual(Object.keys(p.versions), ['9.0.0']);
    assert.equal((await fetch(`${virt()}left-pad-x/-/left-pad-x-1.1.0.tgz`)).status, 404);
    // A scope the remote is filtered from never goes upstream, even though the upstream has it.
    assert.equal((await fetch(`${virt()}@corp%2fsecret`)).status, 404);
    // Names only the public registry has come from it.
    const pub3 = (await (await fetch(`${virt()}public-only`)).json()) as Packument;
    assert.equal(pub3.versions['3.0.0']?.dist.tarball, `${br.url}/repo/npm/public-only/-/public-only-3.0.0.tgz`);
    const install = join(work.path, 'use-virtual');
    await writePackage(install, { name: 'use-virtual', version: '1.0.0', dependencies: { 'left-pad-x': '*', 'public-only': '3.0.0', '@corp/tool': '1.1.0' } });
    const i = await npm(['install', '--no-audit'], { cwd: install, home: await home(virt()) });
    assert.equal(i.code, 0, i.stderr);
    assert.equal(await readFile(join(install, 'node_modules/left-pad-x/index.js'), 'utf8'), 'module.exports = "left-pad-x@9.0.0";\n');
  });

  it('http.publicUrl names the tarballs whatever the request\'s host and forwarded headers say', async () => {
    const pub = await startServer({ config: { http: { publicUrl: 'https://npm.example.com/mirror/' }, repos: [{ name: 'own', format: 'npm', type: 'local' }] } });
    try {
      const tgz = new TextEncoder().encode('tarball bytes');
      assert.equal((await put(`${pub.url}/repo/own/pkg`, publishDoc('pkg', '1.0.0', tgz))).status, 201);
      const p = (await (await fetch(`${pub.url}/repo/own/pkg`, { headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-prefix': '/x' } })).json()) as Packument;
      assert.equal(p.versions['1.0.0']?.dist.tarball, 'https://npm.example.com/mirror/repo/own/pkg/-/pkg-1.0.0.tgz');
    } finally {
      await pub.close();
    }
  });

  it('npm audit answers at once: forwarded to the remote member, or "no advisories" from a hosted repo', async () => {
    const dir = join(work.path, 'use-virtual');
    const viaVirtual = await npm(['audit', '--json'], { cwd: dir, home: await home(virt()) });
    assert.ok(viaVirtual.stdout.includes('"vulnerabilities"'), viaVirtual.stdout + viaVirtual.stderr);
    const r = await fetch(`${corp()}-/npm/v1/security/advisories/bulk`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"left-pad-x":["9.0.0"]}' });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), {});
  });
});
