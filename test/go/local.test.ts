import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic, PASSWORDS } from '../helpers/auth.ts';
import { goEnv, writeProxyTree, zipStored } from '../helpers/gomod.ts';
import { run } from '../helpers/net.ts';
import { startStaticNginx, startTlsFrontDoor } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const enc = new TextEncoder();
const LIB = 'corp.example/platform/lib';
const zipOf = (module: string, version: string, files: Record<string, string>): Uint8Array =>
  zipStored(Object.entries(files).map(([name, data]) => ({ name: `${module}@${version}/${name}`, data: enc.encode(data) })));
const libZip = (version: string, words: string): Uint8Array =>
  zipOf(LIB, version, { 'go.mod': `module ${LIB}\n\ngo 1.21\n`, 'lib.go': `package lib\n\nfunc Words() string { return "${words}" }\n` });

// Issue 11: hosted Go modules (upload, validation as the go command checks module zips,
// immutability) behind a virtual GOPROXY with a remote member; the go command authenticates with .netrc.
describe('Go local and virtual repos with the go command', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  const put = (path: string, body: Uint8Array | string, user: keyof typeof PASSWORDS | null = 'writer'): Promise<Response> =>
    fetch(`${br.url}/repo/goproxy/${path}`, { method: 'PUT', body, headers: user ? { authorization: basic(user) } : {} });

  before(async () => {
    work = await tempDir('go-local-');
    const tree = join(work.path, 'proxy');
    await writeProxyTree(tree, [
      { path: 'example.com/greet', version: 'v1.0.0', files: { 'go.mod': 'module example.com/greet\n\ngo 1.21\n', 'greet.go': 'package greet\n\nfunc Hello() string { return "hello" }\n' } },
    ]);
    ngx = await startStaticNginx(tree, work.path);
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'golocal', format: 'go', type: 'local', permissions: { read: ['reader', 'writer'], write: ['writer'], delete: ['writer'] } },
          { name: 'gomod', format: 'go', type: 'remote', upstream: { url: ngx.url }, permissions: { read: ['authenticated'] } },
          { name: 'goproxy', format: 'go', type: 'virtual', members: ['golocal', 'gomod'], deployTo: 'golocal', permissions: { read: ['authenticated'], write: ['writer'] } },
        ],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => ngx?.stop(), () => work?.cleanup()));

  it('publishes a module version by its zip; a second upload of the version is refused (immutable)', async () => {
    const r = await put(`${LIB}/@v/v1.0.0.zip`, libZip('v1.0.0', 'one'));
    assert.equal(r.status, 201, await r.text());
    const again = await put(`${LIB}/@v/v1.0.0.zip`, libZip('v1.0.0', 'changed'));
    assert.equal(again.status, 409);
    const mod = await fetch(`${br.url}/repo/goproxy/${LIB}/@v/v1.0.0.mod`, { headers: { authorization: basic('reader') } });
    assert.equal(await mod.text(), `module ${LIB}\n\ngo 1.21\n`, 'the .mod derived from the zip');
    const info = (await (await fetch(`${br.url}/repo/goproxy/${LIB}/@v/v1.0.0.info`, { headers: { authorization: basic('reader') } })).json()) as { Version: string };
    assert.equal(info.Version, 'v1.0.0');
  });

  it('refuses what the go command would refuse, and stores nothing', async () => {
    const cases: Array<[string, Uint8Array | string, number]> = [
      [`${LIB}/@v/v1.2.0.zip`, zipOf(LIB, 'v1.2.0', { 'go.mod': `module ${LIB}\n`, '../escape.go': 'package x' }), 400],
      [`${LIB}/@v/v1.2.0.zip`, zipOf('corp.example/other', 'v1.2.0', { 'go.mod': 'module corp.example/other\n' }), 400],
      [`${LIB}/@v/v1.2.0.zip`, zipOf(LIB, 'v1.2.0', { 'go.mod': `module ${LIB}\n`, 'A.go': 'package lib', 'a.go': 'package lib' }), 400],
      [`${LIB}/@v/v1.2.0.zip`, zipOf(LIB, 'v1.2.0', { 'go.mod': 'module corp.example/wrong\n' }), 400],
      [`${LIB}/@v/v1.2.0.zip`, 'not a zip at all', 400],
      [`${LIB}/@v/1.2.0.zip`, libZip('1.2.0', 'x'), 400],
      [`${LIB}/@v/v1.2.0.mod`, 'module corp.example/wrong\n', 400],
    ];
    for (const [path, body, status] of cases) {
      const r = await put(path, body);
      assert.equal(r.status, status, `${path}: ${await r.text()}`);
    }
    const list = await (await fetch(`${br.url}/repo/golocal/${LIB}/@v/list`, { headers: { authorization: basic('reader') } })).text();
    assert.equal(list, 'v1.0.0\n', 'nothing was published by the refused uploads');
    assert.equal((await put(`${LIB}/@v/v1.3.0.zip`, libZip('v1.3.0', 'x'), null)).status, 401);
    assert.equal((await put(`${LIB}/@v/v1.3.0.zip`, libZip('v1.3.0', 'x'), 'reader')).status, 403);
  });

  it('go build through the virtual GOPROXY over TLS (nginx in front), hosted and public modules, credentials from .netrc', async () => {
    // The go command sends .netrc credentials over HTTPS only: as users run it, behind TLS.
    const tls = await startTlsFrontDoor(join(work.path, 'tls'), br.url, 'golocal');
    after(() => tls.ngx.stop());
    assert.equal((await put(`${LIB}/@v/v1.1.0.zip`, libZip('v1.1.0', 'two'))).status, 201);
    const home = join(work.path, 'home');
    await mkdir(home, { recursive: true });
    // Both spellings of the machine: go versions differ on whether the port is part of it.
    const port = new URL(tls.ngx.url).port;
    await writeFile(join(home, '.netrc'), `machine 127.0.0.1:${port} login reader password ${PASSWORDS.reader}\nmachine 127.0.0.1 login reader password ${PASSWORDS.reader}\n`, { mode: 0o600 });
    const app = join(work.path, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'go.mod'), `module example.com/app\n\ngo 1.21\n\nrequire (\n\t${LIB} v1.1.0\n\texample.com/greet v1.0.0\n)\n`);
    await writeFile(join(app, 'main.go'), `package main\n\nimport (\n\t"fmt"\n\n\t"${LIB}"\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(lib.Words(), greet.Hello()) }\n`);
    const env = goEnv(home, join(work.path, 'gocache'), {
      NETRC: join(home, '.netrc'),
      GOPROXY: `${tls.ngx.url}/repo/goproxy`,
      SSL_CERT_FILE: join(tls.certDir, 'ca.crt'),
      GONOSUMDB: 'corp.example',
    });
    const versions = await run('go', ['list', '-m', '-versions', LIB], { cwd: app, env, timeoutMs: 240_000 });
    assert.equal(versions.code, 0, versions.stderr);
    assert.equal(versions.stdout.trim(), `${LIB} v1.0.0 v1.1.0`);
    const build = await run('go', ['build', '-o', join(app, 'app'), '.'], { cwd: app, env, timeoutMs: 240_000 });
    assert.equal(build.code, 0, build.stderr);
    assert.equal((await run(join(app, 'app'), [])).stdout.trim(), 'two hello');
    const anonymous = await run('go', ['list', '-m', '-versions', LIB], { cwd: app, env: { ...env, NETRC: join(home, 'none'), GOMODCACHE: join(home, 'modcache-anon') }, timeoutMs: 240_000 });
    assert.notEqual(anonymous.code, 0, 'without credentials the proxy refuses');
  });

  it('a deleted version leaves the list; @latest is the highest release', async () => {
    const auth = { authorization: basic('writer') };
    const latest = (await (await fetch(`${br.url}/repo/golocal/${LIB}/@latest`, { headers: auth })).json()) as { Version: string };
    assert.equal(latest.Version, 'v1.1.0');
    assert.equal((await fetch(`${br.url}/repo/golocal/${LIB}/@v/v1.1.0.zip`, { method: 'DELETE', headers: auth })).status, 204);
    assert.equal(await (await fetch(`${br.url}/repo/golocal/${LIB}/@v/list`, { headers: auth })).text(), 'v1.0.0\n');
    assert.equal((await fetch(`${br.url}/repo/golocal/${LIB}/@v/v1.1.0.info`, { headers: auth })).status, 404);
  });
});
