import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { cli } from '../helpers/cli.ts';
import { goEnv, zipStored } from '../helpers/gomod.ts';
import { helm } from '../helpers/helm.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { run } from '../helpers/net.ts';
import { startTlsFrontDoor } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const LIB = 'corp.example/lib';
const enc = new TextEncoder();

// Issue 23: access tokens end to end with the real clients. A token is made with the CLI on the
// server's store, then used by curl (Bearer and Basic), podman login, helm repo add and the go
// command through .netrc, each as that client sends secrets; revoked with the CLI, it is refused.
describe('access tokens with curl, podman, helm and the go command', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  let cfgFile: string;
  let secret = '';
  let host: string;
  let podman: ReturnType<typeof podmanIn>;

  before(async () => {
    work = await tempDir('tokens-e2e-');
    const dataDir = join(work.path, 'data');
    await mkdir(dataDir);
    const auth = await authConfig();
    const perms = { read: ['writer'], write: ['writer'], delete: [] };
    const repos = [
      { name: 'team', format: 'docker', type: 'local', permissions: perms },
      { name: 'files', format: 'generic', type: 'local', permissions: perms },
      { name: 'charts', format: 'helm', type: 'local', permissions: perms },
      { name: 'golocal', format: 'go', type: 'local', permissions: perms },
      { name: 'other', format: 'generic', type: 'local', permissions: perms },
    ];
    br = await startServer({ dataDir, config: { auth, repos } });
    host = br.url.replace('http://', '');
    cfgFile = join(work.path, 'config.json');
    await writeFile(cfgFile, JSON.stringify({ listen: '127.0.0.1:0', storage: { type: 'fs', path: dataDir }, auth, repos }));
    podman = podmanIn(join(work.path, 'podman'));
    await pushImage(`${br.url}/repo/team`, 'app', '1', await makeImage({ layerSizes: [30_000] }), { authorization: basic('writer') });
    const zip = zipStored([{ name: `${LIB}@v1.0.0/go.mod`, data: enc.encode(`module ${LIB}\n\ngo 1.21\n`) }, { name: `${LIB}@v1.0.0/lib.go`, data: enc.encode('package lib\n') }]);
    assert.equal((await fetch(`${br.url}/repo/golocal/${LIB}/@v/v1.0.0.zip`, { method: 'PUT', body: zip, headers: { authorization: basic('writer') } })).status, 201);
  });
  after(() => closeAll(() => br?.close(), () => work?.cleanup()));

  it('binaryrepo token create prints a token scoped as asked', async () => {
    const made = await cli(['token', 'create', 'writer', 'ci deploy', '--repos', 'team,files,charts,golocal', '--actions', 'read,write', '--expires-days', '7', '--config', cfgFile]);
    assert.equal(made.code, 0, made.stderr);
    secret = made.stdout.trim();
    assert.match(secret, /^brt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.match(made.stderr, /"ci deploy" for writer: read,write on team,files,charts,golocal, expires /);
    const bad = await cli(['token', 'create', 'writer', 'x', '--actions', 'admin', '--config', cfgFile]);
    assert.equal(bad.code, 1, 'a non-admin cannot get an admin token');
  });

  it('curl: Bearer and Basic (any user name) within the scope, refused outside it', async () => {
    const up = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-u', `ci:${secret}`, '-T', '-', `${br.url}/repo/files/build/out.txt`]);
    assert.equal(up.stdout, '201', up.stderr);
    const down = await run('curl', ['-sS', '-f', '-H', `Authorization: Bearer ${secret}`, `${br.url}/repo/files/build/out.txt`]);
    assert.equal(down.code, 0, down.stderr);
    const outside = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${secret}`, `${br.url}/repo/other/x.txt`]);
    assert.equal(outside.stdout, '403');
    const admin = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-u', `ci:${secret}`, `${br.url}/api/v1/gc?dryRun=true`]);
    assert.equal(admin.stdout, '403', 'not an admin token');
  });

  it('podman login with the token as the password, then pull and push', async () => {
    const login = await podman(['login', '--tls-verify=false', '-u', 'ci', '-p', secret, host]);
    assert.equal(login.code, 0, login.stderr);
    const pull = await podman(['pull', '--tls-verify=false', `${host}/team/app:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    const tag = await podman(['tag', `${host}/team/app:1`, `${host}/team/app:2`]);
    assert.equal(tag.code, 0, tag.stderr);
    const push = await podman(['push', '--tls-verify=false', `${host}/team/app:2`]);
    assert.equal(push.code, 0, push.stderr);
    const head = await fetch(`${br.url}/repo/team/v2/app/manifests/2`, { method: 'HEAD', headers: { authorization: basic('writer') } });
    assert.equal(head.status, 200);
  });

  it('helm repo add with the token as the password', async () => {
    const home = join(work.path, 'helm');
    await mkdir(home, { recursive: true });
    const add = await helm(home, ['repo', 'add', 'corp', `${br.url}/repo/charts`, '--username', 'ci', '--password', secret]);
    assert.equal(add.code, 0, add.stderr);
    const wrong = await helm(home, ['repo', 'add', 'corp2', `${br.url}/repo/charts`, '--username', 'ci', '--password', `${secret.slice(0, -1)}x`]);
    assert.notEqual(wrong.code, 0);
  });

  it('the go command with the token in .netrc (over TLS, as it sends credentials)', async () => {
    const tls = await startTlsFrontDoor(join(work.path, 'tls'), br.url, 'golocal');
    after(() => tls.ngx.stop());
    const home = join(work.path, 'gohome');
    await mkdir(home, { recursive: true });
    const port = new URL(tls.ngx.url).port;
    await writeFile(join(home, '.netrc'), `machine 127.0.0.1:${port} login ci password ${secret}\nmachine 127.0.0.1 login ci password ${secret}\n`, { mode: 0o600 });
    const env = goEnv(home, join(work.path, 'gocache'), { NETRC: join(home, '.netrc'), GOPROXY: `${tls.ngx.url}/repo/golocal`, SSL_CERT_FILE: join(tls.certDir, 'ca.crt'), GONOSUMDB: 'corp.example' });
    const versions = await run('go', ['list', '-m', '-versions', LIB], { cwd: work.path, env, timeoutMs: 240_000 });
    assert.equal(versions.code, 0, versions.stderr);
    assert.equal(versions.stdout.trim(), `${LIB} v1.0.0`);
  });

  it('revoked with the CLI: refused by every client within seconds', async () => {
    const list = await cli(['token', 'list', 'writer', '--config', cfgFile]);
    assert.equal(list.code, 0, list.stderr);
    const tokens = JSON.parse(list.stdout) as Array<{ id: string; name: string; lastUsedAt: number | null }>;
    const t = tokens.find((x) => x.name === 'ci deploy');
    assert.ok(t && t.lastUsedAt !== null, 'listed, with its last use');
    const revoke = await cli(['token', 'revoke', t.id, '--config', cfgFile]);
    assert.equal(revoke.code, 0, revoke.stderr);
    // The server re-reads a token document at most every 5 s (another process revoked it): poll, bounded.
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline) {
      status = (await fetch(`${br.url}/repo/files/build/out.txt`, { headers: { authorization: `Bearer ${secret}` } })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, 401);
    const pull = await podman(['pull', '--tls-verify=false', `${host}/team/app:1`]);
    assert.notEqual(pull.code, 0, 'podman\'s stored login no longer works');
  });
});
