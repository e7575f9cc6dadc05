import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { run } from '../helpers/net.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer, RuntimeName } from '../helpers/process-server.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { tempDir } from '../helpers/tmp.ts';
import { conformanceSuite } from '../docker/conformance-suite.ts';
import { closeAll } from '../helpers/teardown.ts';

// The same end-to-end pull and the local-repo conformance suite, with the server under each runtime's adapter.
for (const rt of ['node', 'bun', 'deno'] as RuntimeName[]) {
  describe(`end-to-end pull on ${rt}`, () => {
    let reg: RunningRegistry;
    let srv: ProcessServer;
    let img: TestImage;
    let dir: { path: string; cleanup: () => Promise<void> };

    before(async () => {
      dir = await tempDir(`rt-${rt}-`);
      reg = await startRegistry();
      img = await makeImage({ layerSizes: [700_000, 1_200_000] });
      await pushImage(reg.url, 'team/app', 'v1', img);
      srv = await startProcessServer(rt, {
        storage: { type: 'fs', path: `${dir.path}/data` },
        defaultRepo: 'hub',
        repos: [
          { name: 'hub', format: 'docker', type: 'remote', upstream: { url: reg.url } },
          { name: 'local', format: 'docker', type: 'local' },
        ],
      }, dir.path);
    });
    after(() => closeAll(() => srv?.stop(), () => reg?.stop(), () => dir?.cleanup()));

    it('cold then warm pull with verified digests', async () => {
      const cold = await pullImage(`${srv.url}/repo/hub`, 'team/app', 'v1');
      assert.equal(cold.manifestDigest, img.manifest.digest);
      assert.ok(cold.cache.every((c) => c === 'MISS' || c === 'COALESCED'), cold.cache.join());
      const warm = await pullImage(srv.url, 'team/app', 'v1'); // through the default root repo
      assert.deepEqual(warm.cache, ['HIT', 'HIT', 'HIT', 'HIT']);
    });

    it('cached blobs carry Content-Length on GET and HEAD, and Range works', async () => {
      const layer = img.layers[1];
      assert.ok(layer);
      const url = `${srv.url}/repo/hub/v2/team/app/blobs/${layer.digest}`;
      const get = await fetch(url);
      assert.equal(get.headers.get('content-length'), String(layer.bytes.byteLength));
      assert.equal((await get.arrayBuffer()).byteLength, layer.bytes.byteLength);
      const head = await fetch(url, { method: 'HEAD' });
      assert.equal(head.headers.get('content-length'), String(layer.bytes.byteLength));
      assert.equal(head.headers.get('docker-content-digest'), layer.digest);
      const part = await fetch(url, { headers: { range: 'bytes=10-1009' } });
      assert.equal(part.status, 206);
      assert.deepEqual(new Uint8Array(await part.arrayBuffer()), layer.bytes.subarray(10, 1010));
    });

    describe(`local repo conformance on ${rt}`, () => {
      conformanceSuite(() => `${srv.url}/repo/local`);
    });

    it('skopeo copies through it', async () => {
      const host = srv.url.replace('http://', '');
      const r = await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${host}/hub/team/app:v1`, `dir:${dir.path}/skopeo`]);
      assert.equal(r.code, 0, r.stderr);
    });

    // Log lines are written once per event-loop turn (adapters/common.ts lineBatcher): the request
    // lines must still all arrive, and the lines logged by a stop must be out before the process ends.
    it('request lines reach stdout, and a stop writes its last lines before the process exits', async () => {
      const closed = new Promise<void>((r) => srv.child.once('close', () => r()));
      const paths = Array.from({ length: 50 }, (_, i) => `/repo/hub/v2/team/app/manifests/missing-${i}`);
      await Promise.all(paths.map(async (p) => assert.equal((await fetch(`${srv.url}${p}`, { method: 'HEAD' })).status, 404)));
      await srv.stop();
      await closed;
      const msgs = srv.logs.map((l): { msg?: string; path?: string } => {
        try {
          return JSON.parse(l) as { msg?: string; path?: string };
        } catch {
          return {};
        }
      });
      const logged = new Set(msgs.filter((m) => m.msg === 'request').map((m) => m.path));
      assert.deepEqual(paths.filter((p) => !logged.has(p)), [], 'every request logged');
      assert.ok(msgs.some((m) => m.msg === 'shutting down'), srv.logs.slice(-5).join('\n'));
    });
  });
}
