import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { startTlsFrontDoor } from '../helpers/nginx.ts';
import type { RunningNginx } from '../helpers/nginx.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { closeAll } from '../helpers/teardown.ts';

// nginx terminates TLS (certificates from nginx/setup-certs.sh) and maps its root /v2/ to
// /repo/docker-remote; podman pulls through it with the CA trusted via --cert-dir.
describe('podman → nginx (TLS) → binaryrepo → docker-registry', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let br: TestServer;
  let ngx: RunningNginx;
  let img: TestImage;
  let dir: { path: string; cleanup: () => Promise<void> };
  let certDir: string;

  before(async () => {
    dir = await tempDir('nginx-');
    reg = await startRegistry();
    relay = await startRelay(reg.url);
    img = await makeImage({ layerSizes: [1_000_000, 300_000] });
    await pushImage(reg.url, 'library/sample', '1', img);
    br = await startServer({ config: { repos: [remoteRepo('docker-remote', relay.url, { upstream: { libraryPrefix: true } })] } });
    ({ ngx, certDir } = await startTlsFrontDoor(dir.path, br.url, 'docker-remote'));
  });
  after(() => closeAll(() => ngx?.stop(), () => br?.close(), () => relay?.close(), () => reg?.stop(), () => dir?.cleanup()));

  it('pulls over TLS with a verified certificate, cold then warm from the cache', async () => {
    const root = join(dir.path, 'podman');
    const podman = podmanIn(root);
    const ref = `127.0.0.1:${ngx.port}/sample:1`; // one segment: library/ is added for Docker Hub-style upstreams
    const cold = await podman(['pull', '--cert-dir', certDir, ref]);
    assert.equal(cold.code, 0, cold.stderr);
    const blobGets = relay.count('GET', '/blobs/');
    assert.equal(blobGets, 3);
    assert.equal((await podman(['rmi', ref])).code, 0);
    const warm = await podman(['pull', '--cert-dir', certDir, ref]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(relay.count('GET', '/blobs/'), blobGets, 'warm pull served from the cache');
    const m = await fetch(`${br.url}/repo/docker-remote/v2/library/sample/manifests/1`, { method: 'HEAD' });
    assert.equal(m.headers.get('docker-content-digest'), img.manifest.digest);
  });
});

// The same front door for a private registry: token realm and upload Locations must come back
// through nginx (https, its port), and login + push + pull work over TLS.
describe('podman login/push/pull → nginx (TLS) → binaryrepo virtual repo with auth', () => {
  let br: TestServer;
  let ngx: RunningNginx;
  let dir: { path: string; cleanup: () => Promise<void> };
  let certDir: string;

  before(async () => {
    dir = await tempDir('nginx-auth-');
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'team', format: 'docker', type: 'local', permissions: { write: ['writer'], read: ['reader'] } },
          { name: 'docker', format: 'docker', type: 'virtual', members: ['team'], deployTo: 'team', permissions: { write: ['writer'], read: ['reader'] } },
        ],
      },
    });
    ({ ngx, certDir } = await startTlsFrontDoor(dir.path, br.url, 'docker'));
  });
  after(() => closeAll(() => ngx?.stop(), () => br?.close(), () => dir?.cleanup()));

  it('the challenge names the https realm on nginx; podman logs in, pushes and pulls back', async () => {
    const host = `127.0.0.1:${ngx.port}`;
    const img = await makeImage({ layerSizes: [200_000] });
    await pushImage(`${br.url}/repo/team`, 'base/img', '1', img, { authorization: basic('writer') });
    const podman = podmanIn(join(dir.path, 'podman'));
    assert.equal((await podman(['login', '--cert-dir', certDir, '-u', 'writer', '-p', PASSWORDS.writer, host])).code, 0);
    const pull = await podman(['pull', '--cert-dir', certDir, `${host}/base/img:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal((await podman(['tag', `${host}/base/img:1`, `${host}/apps/web:2`])).code, 0);
    const push = await podman(['push', '--cert-dir', certDir, `${host}/apps/web:2`]);
    assert.equal(push.code, 0, push.stderr);
    const pushed = await fetch(`${br.url}/repo/team/v2/apps/web/manifests/2`, { method: 'HEAD', headers: { authorization: basic('writer') } });
    assert.equal(pushed.status, 200);
    const ch = br.logs.some((l) => l.includes('"path":"/repo/docker/token"'));
    assert.ok(ch, 'podman fetched its token from the realm through nginx');
  });
});
