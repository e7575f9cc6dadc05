import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { run } from '../helpers/net.ts';
import type { RunningNginx } from '../helpers/nginx.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startCluster } from '../helpers/replicas.ts';
import type { Cluster } from '../helpers/replicas.ts';
import { remoteRepo } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { checkDirDigests } from '../helpers/files.ts';

const RW = { write: ['writer'], read: ['writer', 'reader'] };

/**
 * podman and skopeo against nginx balancing over three replicas on one bucket, with token auth:
 * each request of a client may land on any replica (nginx round-robins per request), so a token
 * issued by one replica must open every other, and a push's requests scatter over all three.
 * The token secret is not in the config: the first replica generated it into the bucket.
 */
describe('podman and skopeo → nginx → three replicas (S3) with token auth', () => {
  let upstream: RunningRegistry;
  let relay: Relay;
  let c: Cluster;
  let lb: RunningNginx;
  let certDir: string;
  let host: string;
  let img: TestImage;

  before(async () => {
    upstream = await startRegistry();
    relay = await startRelay(upstream.url);
    img = await makeImage({ layerSizes: [6_000_000, 700_000, 30_000] });
    await pushImage(upstream.url, 'team/alpha', '1', img);
    const auth = await authConfig();
    c = await startCluster(3, (storage) => ({
      storage,
      auth,
      repos: [remoteRepo('hub', relay.url, { permissions: RW }), { name: 'team', format: 'docker', type: 'local', permissions: RW }],
    }));
    const b = await c.balancer();
    lb = b.lb;
    certDir = join(c.dir, 'trust');
    await mkdir(certDir);
    await copyFile(b.ca, join(certDir, 'ca.crt'));
    host = `127.0.0.1:${lb.port}`;
  });
  after(() => closeAll(() => c?.close(), () => relay?.close(), () => upstream?.stop()));

  it('podman logs in and pulls a cold image through the balancer: each blob fetched upstream once', async () => {
    const podman = podmanIn(join(c.dir, 'podman'));
    const login = await podman(['login', '--cert-dir', certDir, '-u', 'reader', '-p', PASSWORDS.reader, host]);
    assert.equal(login.code, 0, login.stderr);
    const pull = await podman(['pull', '--cert-dir', certDir, `${host}/hub/team/alpha:1`]);
    assert.equal(pull.code, 0, pull.stderr);
    for (const b of [img.config, ...img.layers]) assert.equal(relay.count('GET', `/blobs/${b.digest}`), 1, b.digest);
    // The requests went to all three replicas (so the token crossed replicas).
    const served = await Promise.all([0, 1, 2].map(async (i) => (await (await fetch(`${c.url(i)}/metrics`, { headers: { authorization: basic('boss') } })).text()).includes('repo="hub"')));
    assert.deepEqual(served, [true, true, true]);
  });

  it('skopeo copies an image into a local repo through the balancer and back out, digests intact', async () => {
    const src = `docker://127.0.0.1:${upstream.port}/team/alpha:1`;
    const creds = `writer:${PASSWORDS.writer}`;
    const push = await run('skopeo', ['copy', '--src-tls-verify=false', '--dest-cert-dir', certDir, '--dest-creds', creds, src, `docker://${host}/team/copied/alpha:1`]);
    assert.equal(push.code, 0, push.stderr);
    const out = join(c.dir, 'skopeo-out');
    const pull = await run('skopeo', ['copy', '--src-cert-dir', certDir, '--src-creds', `reader:${PASSWORDS.reader}`, `docker://${host}/team/copied/alpha:1`, `dir:${out}`]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(await checkDirDigests(out), 4);
    assert.deepEqual(new Uint8Array(await readFile(join(out, 'manifest.json'))), img.manifest.bytes);
  });

  it('podman pushes through the balancer; every replica then serves the tag', async () => {
    const podman = podmanIn(join(c.dir, 'podman'));
    assert.equal((await podman(['login', '--cert-dir', certDir, '-u', 'writer', '-p', PASSWORDS.writer, host])).code, 0);
    assert.equal((await podman(['tag', `${host}/hub/team/alpha:1`, `${host}/team/apps/web:2`])).code, 0);
    const push = await podman(['push', '--cert-dir', certDir, `${host}/team/apps/web:2`]);
    assert.equal(push.code, 0, push.stderr);
    for (const i of [0, 1, 2]) {
      const r = await fetch(`${c.url(i)}/repo/team/v2/apps/web/manifests/2`, { method: 'HEAD', headers: { authorization: basic('reader') } });
      assert.equal(r.status, 200, `replica ${i}`);
    }
  });
});
