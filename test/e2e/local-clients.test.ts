import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { makeImage, pushImage, pushMultiArch } from '../helpers/images.ts';
import type { Blob, TestImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { run } from '../helpers/net.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { closeAll } from '../helpers/teardown.ts';

// Real clients (skopeo, podman) against local and virtual repos with authentication on.
describe('real clients: push, login, permissions', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let br: TestServer;
  let img: TestImage;
  let index: Blob;
  let work: { path: string; cleanup: () => Promise<void> };
  let host: string;
  let podman: ReturnType<typeof podmanIn>;
  const creds = (u: keyof typeof PASSWORDS): string => `${u}:${PASSWORDS[u]}`;

  before(async () => {
    work = await tempDir('local-clients-');
    podman = podmanIn(join(work.path, 'podman'));
    reg = await startRegistry();
    img = await makeImage({ layerSizes: [400_000, 90_000] });
    await pushImage(reg.url, 'team/alpha', '1', img);
    await pushImage(reg.url, 'library/alpine', '3.20', img);
    index = await pushMultiArch(reg.url, 'team/multi', '2');
    relay = await startRelay(reg.url);
    br = await startServer({
      config: {
        defaultRepo: 'docker',
        auth: await authConfig(),
        repos: [
          remoteRepo('hub', relay.url, { upstream: { libraryPrefix: true }, permissions: { read: ['anonymous'] } }),
          { name: 'team', format: 'docker', type: 'local', permissions: { read: ['reader'], write: ['writer'] } },
          { name: 'docker', format: 'docker', type: 'virtual', members: ['team', 'hub'], deployTo: 'team', permissions: { read: ['authenticated'], write: ['writer'] } },
        ],
      },
    });
    host = br.url.replace('http://', '');
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => reg?.stop(), () => work?.cleanup()));

  const tagDigest = async (repo: string, name: string, tag: string): Promise<string | null> =>
    (await fetch(`${br.url}/repo/${repo}/v2/${name}/manifests/${tag}`, { method: 'HEAD', headers: { authorization: basic('boss') } })).headers.get('docker-content-digest');

  it('skopeo copy into a local repo, then podman pull it back: same digest', async () => {
    const cp = await run('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', creds('writer'), `docker://${reg.url.replace('http://', '')}/team/alpha:1`, `docker://${host}/team/apps/alpha:1`]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(await tagDigest('team', 'apps/alpha', '1'), img.manifest.digest);
    assert.equal((await podman(['login', '--tls-verify=false', '-u', 'reader', '-p', PASSWORDS.reader, host])).code, 0);
    const pull = await podman(['pull', '--tls-verify=false', `${host}/team/apps/alpha:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    const inspect = await podman(['image', 'inspect', '--format', '{{.Digest}}', `${host}/team/apps/alpha:1`]);
    assert.equal(inspect.stdout.trim(), img.manifest.digest);
  });

  it('skopeo copy --all of a multi-arch index keeps the index digest', async () => {
    const cp = await run('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', creds('writer'), `docker://${reg.url.replace('http://', '')}/team/multi:2`, `docker://${host}/team/apps/multi:2`]);
    assert.equal(cp.code, 0, cp.stderr);
    assert.equal(await tagDigest('team', 'apps/multi', '2'), index.digest);
    const back = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--creds', creds('reader'), `docker://${host}/team/apps/multi:2`]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, new TextDecoder().decode(index.bytes));
  });

  it('podman login as writer and push through the virtual URL: it lands in deployTo', async () => {
    assert.equal((await podman(['login', '--tls-verify=false', '-u', 'writer', '-p', PASSWORDS.writer, host])).code, 0);
    assert.equal((await podman(['tag', `${host}/team/apps/alpha:1`, `${host}/acme/web:7`])).code, 0);
    const push = await podman(['push', '--tls-verify=false', `${host}/acme/web:7`]);
    assert.equal(push.code, 0, push.stderr);
    assert.ok(await tagDigest('team', 'acme/web', '7'), 'the image is in the deployTo repo');
    const pull = await podman(['pull', '--tls-verify=false', `${host}/acme/web:7`]);
    assert.equal(pull.code, 0, pull.stderr);
  });

  it('pull through the virtual URL of an image that lives only upstream', async () => {
    const pull = await podman(['pull', '--tls-verify=false', `${host}/library/alpine:3.20`]);
    assert.equal(pull.code, 0, pull.stderr);
    const inspect = await podman(['image', 'inspect', '--format', '{{.Digest}}', `${host}/library/alpine:3.20`]);
    assert.equal(inspect.stdout.trim(), img.manifest.digest);
    assert.ok(relay.count('GET', '/manifests/') > 0, 'the manifest came from upstream (the layers were already in the store)');
    assert.deepEqual(relay.authorizations, [], "the client's credentials and our tokens never go upstream");
  });

  it('push as a reader is denied; a wrong password cannot log in', async () => {
    assert.equal((await podman(['login', '--tls-verify=false', '-u', 'reader', '-p', PASSWORDS.reader, host])).code, 0);
    assert.equal((await podman(['tag', `${host}/team/apps/alpha:1`, `${host}/acme/denied:1`])).code, 0);
    const push = await podman(['push', '--tls-verify=false', `${host}/acme/denied:1`]);
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /denied|unauthorized/i);
    assert.equal(await tagDigest('team', 'acme/denied', '1'), null);
    const bad = await podman(['login', '--tls-verify=false', '-u', 'writer', '-p', 'wrong-password', host]);
    assert.notEqual(bad.code, 0);
  });

  it('anonymous skopeo pull works from the anonymous-read remote repo only', async () => {
    const ok = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${host}/hub/team/alpha:1`]);
    assert.equal(ok.code, 0, ok.stderr);
    const no = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', '--no-creds', `docker://${host}/team/apps/alpha:1`]);
    assert.notEqual(no.code, 0);
  });
});
