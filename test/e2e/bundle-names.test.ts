import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { makeImage, makeTar } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { tempDir } from '../helpers/tmp.ts';

/** An OCI image layout tar with `img`'s blobs and an index.json naming what the test says. */
async function bundle(img: TestImage, entries: Array<Record<string, string>>, extraBlobs: Array<{ digest: string; bytes: Uint8Array }> = []): Promise<Uint8Array> {
  const blobs = [img.manifest, img.config, ...img.layers, ...extraBlobs];
  const index = { schemaVersion: 2, manifests: entries.map((a) => ({ mediaType: img.manifest.mediaType, digest: a['digest'] ?? img.manifest.digest, size: img.manifest.bytes.byteLength, annotations: a })) };
  return makeTar([
    { name: 'oci-layout', data: new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', data: new TextEncoder().encode(JSON.stringify(index)) },
    ...blobs.map((b) => ({ name: `blobs/sha256/${b.digest.slice(7)}`, data: b.bytes })),
  ]);
}

// Issue 24, 24: bundle import skipped name validation: an image `ok/_tags` created tags under
// `_layers` and `_manifests`, `UPPER/case` was imported, generic paths with backslashes, control
// characters and CR/LF were stored where HTTP cannot reach or delete them, and a failed import left
// a partial image. Every entry is now checked by the registry API's own rules before anything is written.
describe('binaryrepo import checks every name before it writes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let img: TestImage;
  let cfg: string;
  before(async () => {
    dir = await tempDir('bundle-names-');
    img = await makeImage({ layerSizes: [2000] });
    cfg = join(dir.path, 'config.json');
    await writeFile(cfg, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'data') }, repos: [{ name: 'mirror', format: 'docker', type: 'local' }, { name: 'files', format: 'generic', type: 'local' }] }));
  });
  after(() => dir?.cleanup());

  const importing = async (name: string, tar: Uint8Array, repo = 'mirror') => {
    const file = join(dir.path, `${name}.tar`);
    await writeFile(file, tar);
    return cli(['import', file, '--repo', repo, '--config', cfg]);
  };
  const imagesIn = async (): Promise<string[]> => readdir(join(dir.path, 'data', 'v1', 'repos', 'mirror', 'docker'), { recursive: true }).catch(() => []);

  for (const [what, image, tag, reason] of [
    ['a reserved component', 'ok/_tags', '1', /not an image name: "ok\/_tags"/],
    ['upper case', 'UPPER/case', '1', /not an image name: "UPPER\/case"/],
    ['a bad tag', 'team/app', '-x', /not a tag: "-x"/],
  ] as const) {
    it(`refuses ${what}, and a good entry beside it is not half imported`, async () => {
      const r = await importing(what.replace(/\W/g, '-'), await bundle(img, [{ 'io.binaryrepo.image': 'team/good', 'org.opencontainers.image.ref.name': '1' }, { 'io.binaryrepo.image': image, 'org.opencontainers.image.ref.name': tag }]));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, reason);
      assert.deepEqual(await imagesIn(), [], 'nothing was written');
    });
  }

  it('refuses a manifest whose blob is missing before pushing anything', async () => {
    // A fresh image: the blobs of the bundles above are in the store already.
    const other = await makeImage({ layerSizes: [3000] });
    const noLayer = { ...other, layers: [] };
    const r = await importing('missing', await bundle(noLayer, [{ 'io.binaryrepo.image': 'team/app', 'org.opencontainers.image.ref.name': '1' }]));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the bundle lacks blob/);
    assert.deepEqual(await imagesIn(), []);
  });

  it('refuses generic paths HTTP could not reach (backslash, control characters, CR/LF)', async () => {
    const data = new TextEncoder().encode('x');
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    for (const path of ['a\\b.txt', 'a/\u0007bell', 'line\r\nbreak.txt', 'a/../b']) {
      const tar = await makeTar([
        { name: 'oci-layout', data: new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
        { name: 'index.json', data: new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'text/plain', digest, size: 1, annotations: { 'io.binaryrepo.generic.path': 'ok.txt' } }, { mediaType: 'text/plain', digest, size: 1, annotations: { 'io.binaryrepo.generic.path': path } }] })) },
        { name: `blobs/sha256/${digest.slice(7)}`, data },
      ]);
      const r = await importing('generic', tar, 'files');
      assert.notEqual(r.code, 0, JSON.stringify(path));
      assert.match(r.stderr, /control character or a backslash|empty, "\." or "\.\." segment/, JSON.stringify(path));
      const stored = await readdir(join(dir.path, 'data', 'v1', 'repos', 'files'), { recursive: true }).catch(() => []);
      assert.equal(stored.filter((f) => f.endsWith('_f')).length, 0, 'not even the good path was written');
    }
  });
});
