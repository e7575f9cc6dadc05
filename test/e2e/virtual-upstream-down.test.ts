import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { freePort, run } from '../helpers/net.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

type OciBody = { errors: Array<{ code: string; message: string }> };

// Issue 9, item 12: the embedded default's layout (virtual over local + remote, pushes to the
// local member) with the remote's upstream unreachable, as on a machine without internet.
describe('virtual repo whose remote member cannot reach its upstream', () => {
  let src: RunningRegistry;
  let br: TestServer;
  let img: TestImage;

  before(async () => {
    src = await startRegistry();
    img = await makeImage({ layerSizes: [200_000, 30_000] });
    await pushImage(src.url, 'team/app', '1', img);
    const dead = `http://127.0.0.1:${await freePort()}`;
    br = await startServer({
      config: {
        defaultRepo: 'docker',
        repos: [
          remoteRepo('docker-remote', dead, { upstream: { headersTimeoutSeconds: 2 } }),
          remoteRepo('cut-off', dead, { offline: true }),
          { name: 'docker-local', format: 'docker', type: 'local' },
          { name: 'docker', format: 'docker', type: 'virtual', members: ['docker-local', 'docker-remote'], deployTo: 'docker-local' },
          { name: 'airgap', format: 'docker', type: 'virtual', members: ['docker-local', 'cut-off'] },
        ],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => src?.stop()));

  it('skopeo pushes through the virtual name; the image lands in the local member', async () => {
    const host = br.url.replace('http://', '');
    const cp = await run('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src.url.replace('http://', '')}/team/app:1`, `docker://${host}/team/app:1`]);
    assert.equal(cp.code, 0, cp.stderr);
    const r = await fetch(`${br.url}/repo/docker-local/v2/team/app/manifests/1`, { method: 'HEAD' });
    assert.equal(r.headers.get('docker-content-digest'), img.manifest.digest);
  });

  it('a pull of something not held still says the upstream is down (not 404)', async () => {
    const m = await fetch(`${br.url}/v2/library/alpine/manifests/3.20`);
    assert.ok(m.status === 502 || m.status === 503, `status ${m.status}`);
    assert.equal(((await m.json()) as OciBody).errors[0]?.code, 'UNAVAILABLE');
    const b = await fetch(`${br.url}/v2/library/alpine/blobs/sha256:${'1'.repeat(64)}`);
    assert.equal(b.status, 503, 'a blob GET (a pull) surfaces the failure too');
    await b.body?.cancel();
  });

  it("an offline member's reason survives the virtual repo", async () => {
    const r = await fetch(`${br.url}/repo/airgap/v2/library/alpine/manifests/3.20`);
    assert.equal(r.status, 404);
    const e = ((await r.json()) as OciBody).errors[0];
    assert.equal(e?.code, 'MANIFEST_UNKNOWN');
    assert.match(e?.message ?? '', /cut-off: .*offline/);
  });
});
