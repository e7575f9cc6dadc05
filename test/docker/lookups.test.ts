import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageTagMatcher as pinMatcher } from '../../src/util/glob.ts';
import { ImageFilter } from '../../src/formats/docker/image-filter.ts';
import { checkStore } from '../../src/jobs/fsck.ts';
import { makeImage, pushBlob, sha256 } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 9, item 14: fsck and foreign layers, host names that are Object's members, one pattern language.
describe('fsck, host lookups and patterns', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startServer({
      config: {
        defaultRepo: 'b',
        hosts: { 'reg.example': 'a' },
        repos: [
          { name: 'a', format: 'docker', type: 'local' },
          { name: 'b', format: 'docker', type: 'local' },
        ],
      },
    });
  });
  after(() => srv?.close());

  it('a pushed image with a foreign (non-distributable) layer passes fsck', async () => {
    const img = await makeImage({ layerSizes: [500] });
    await pushBlob(`${srv.url}/repo/a`, 'win', img.config);
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', size: 1234, digest: sha256(new TextEncoder().encode('windows base')), urls: ['https://example.invalid/layer'] };
    const manifest = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        config: { mediaType: img.config.mediaType, size: img.config.bytes.byteLength, digest: img.config.digest },
        layers: [foreign],
      }),
    );
    const put = await fetch(`${srv.url}/repo/a/v2/win/manifests/ltsc`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(put.status, 201, await put.text());
    const report = await checkStore(srv.server, false);
    assert.equal(report.manifests, 1);
    assert.deepEqual(report.problems, []);
  });

  it('Host: constructor / __proto__ / toString route like any unknown host (the default repo)', async () => {
    for (const host of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const r = await fetch(`${srv.url}/v2/app/tags/list`, { headers: { host } });
      const body = (await r.json()) as { errors?: Array<{ message: string }> };
      assert.equal(r.status, 404, host);
      assert.match(body.errors?.[0]?.message ?? '', /app/, `${host}: the default repo answered about the image`);
      assert.doesNotMatch(body.errors?.[0]?.message ?? '', /function|no repository/, host);
    }
  });

  it('pins and include/exclude speak one pattern language: * stays within a segment, ** crosses', () => {
    const pins = pinMatcher(['library/*:latest', 'bitnami/**:1.*']);
    assert.equal(pins('library/alpine', 'latest'), true);
    assert.equal(pins('library/a/b', 'latest'), false, '* does not cross a /');
    assert.equal(pins('bitnami/charts/redis', '1.2'), true);
    assert.equal(pins('library/alpine', 'edge'), false);
    const filter = new ImageFilter(['library/*'], []);
    assert.equal(filter.allows('library/alpine'), true);
    assert.equal(filter.allows('library/a/b'), false);
  });
});
