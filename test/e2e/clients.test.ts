import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage, pushMultiArch } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { run } from '../helpers/net.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { checkDirDigests } from '../helpers/files.ts';
import { closeAll } from '../helpers/teardown.ts';

// Real clients: skopeo and podman pull through binaryrepo from a real docker-registry.
describe('real clients through a remote repo', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let br: TestServer;
  let img: TestImage;
  let work: { path: string; cleanup: () => Promise<void> };
  let host: string;

  before(async () => {
    work = await tempDir('clients-');
    reg = await startRegistry();
    relay = await startRelay(reg.url);
    img = await makeImage({ layerSizes: [500_000, 1_500_000, 80_000] });
    await pushImage(reg.url, 'team/alpha', '1', img);
    await pushMultiArch(reg.url, 'team/multi', '2');
    br = await startServer({ config: { repos: [remoteRepo('hub', relay.url)] } });
    host = br.url.replace('http://', '');
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => reg?.stop(), () => work?.cleanup()));

  it('skopeo copy: cold pull verifies, warm pull makes zero upstream blob requests', async () => {
    const cold = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/hub/team/alpha:1`, `dir:${join(work.path, 'cold')}`]);
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(await checkDirDigests(join(work.path, 'cold')), 4);
    const manifest = await readFile(join(work.path, 'cold', 'manifest.json'));
    assert.deepEqual(new Uint8Array(manifest), img.manifest.bytes, 'manifest byte-exact');
    const blobGets = relay.count('GET', '/blobs/');
    assert.equal(blobGets, 4, 'each blob fetched upstream once');
    const warm = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/hub/team/alpha:1`, `dir:${join(work.path, 'warm')}`]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(await checkDirDigests(join(work.path, 'warm')), 4);
    assert.equal(relay.count('GET', '/blobs/'), blobGets, 'warm pull: zero upstream blob requests');
  });

  it('skopeo copy --all of a multi-arch index', async () => {
    const r = await run('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${host}/hub/team/multi:2`, `oci:${join(work.path, 'multi')}:2`]);
    assert.equal(r.code, 0, r.stderr);
    const index = JSON.parse(await readFile(join(work.path, 'multi', 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.equal(index.manifests.length, 1);
    const blobs = join(work.path, 'multi', 'blobs', 'sha256');
    assert.equal(await checkDirDigests(blobs), 7, 'index, 2 manifests, 2 configs, 2 layers');
  });

  it('podman pull: cold, remove, warm from cache', async () => {
    const root = join(work.path, 'podman');
    const podman = podmanIn(root);
    const ref = `${host}/hub/team/alpha:1`;
    const cold = await podman(['pull', '--tls-verify=false', ref]);
    assert.equal(cold.code, 0, cold.stderr);
    const inspect = await podman(['image', 'inspect', '--format', '{{.Digest}}', ref]);
    assert.equal(inspect.stdout.trim(), img.manifest.digest);
    const blobGets = relay.count('GET', '/blobs/');
    assert.equal((await podman(['rmi', ref])).code, 0);
    const warm = await podman(['pull', '--tls-verify=false', ref]);
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(relay.count('GET', '/blobs/'), blobGets, 'warm podman pull: zero upstream blob requests');
  });
});
