import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import { rawRequest } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { TestServer } from '../helpers/server.ts';

const D = sha256(new Uint8Array([1]));
const TRAVERSALS = ['..', '%2e%2e', '%2E%2E', '..%2f..%2fetc', '..\\..\\etc', 'a%00b', '%00', '/etc/passwd', '%2fetc%2fpasswd', 'a/../../b', '..;', '~root'];

/** All files under a folder, recursively (to prove nothing lands outside the store). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await tree(p)));
    else out.push(p);
  }
  return out;
}

// Hostile and malformed input over real sockets, raw paths included (fetch would normalise them).
describe('hostile input', () => {
  let srv: TestServer;
  let parentBefore: string[];
  let parent: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    // The store in a folder of its own: anything written beside it can only come from this server.
    parent = await tempDir('hostile-');
    await mkdir(join(parent.path, 'store'));
    srv = await startServer({ dataDir: join(parent.path, 'store'), config: { repos: [{ name: 'local', format: 'docker', type: 'local' }] } });
    parentBefore = await readdir(dirname(srv.dataDir));
    await pushImage(`${srv.url}/repo/local`, 'app', 'v1', await makeImage({ layerSizes: [1000] }));
  });
  after(() => closeAll(() => srv?.close(), () => parent?.cleanup()));

  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    rawRequest(srv.url, { method, path, headers, ...(body !== undefined ? { body } : {}) });

  it('path traversal in every URL part: 4xx with an OCI error, never 500, nothing written outside the store', async () => {
    const paths: string[] = [];
    for (const t of TRAVERSALS) {
      paths.push(
        `/repo/${t}/v2/app/manifests/v1`,
        `/repo/local/v2/${t}/manifests/v1`,
        `/repo/local/v2/app/${t}/manifests/v1`,
        `/repo/local/v2/app/manifests/${t}`,
        `/repo/local/v2/app/blobs/${t}`,
        `/repo/local/v2/app/blobs/sha256:${t}`,
        `/repo/local/v2/app/blobs/uploads/${t}`,
        `/repo/local/v2/app/referrers/${t}`,
        `/v2/${t}/app/manifests/v1`,
        `/repo/local/v2/app/blobs/uploads/?mount=${D}&from=${t}`,
        `/repo/local/v2/app/blobs/uploads/?digest=${t}`,
      );
    }
    for (const path of paths) {
      for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE']) {
        const r = await req(method, path, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, method === 'GET' || method === 'HEAD' ? undefined : '{}').catch((e: unknown) => {
          throw new Error(`${method} ${path}: ${String(e)}`);
        });
        assert.ok(r.status >= 400 && r.status < 500 || (method === 'POST' && r.status === 202), `${method} ${path} → ${r.status}`);
        if (method !== 'HEAD' && r.status >= 400 && r.body.byteLength > 0) {
          const j = JSON.parse(r.body.toString()) as { errors?: unknown[]; error?: string };
          assert.ok(j.errors || j.error, `${method} ${path}: error body`);
        }
      }
    }
    assert.deepEqual(await readdir(dirname(srv.dataDir)), parentBefore, 'nothing created beside the store');
    for (const f of await tree(srv.dataDir)) assert.ok(!/passwd|etc|\.\./.test(f.slice(srv.dataDir.length)), f);
  });

  it('over-long names and tags, invalid digests and algorithms', async () => {
    const expect = async (path: string, status: number, code: string): Promise<void> => {
      const r = await req('GET', path);
      assert.equal(r.status, status, path);
      assert.equal((JSON.parse(r.body.toString()) as { errors: Array<{ code: string }> }).errors[0]?.code, code, path);
    };
    await expect(`/repo/local/v2/${'a'.repeat(300)}/manifests/v1`, 400, 'NAME_INVALID');
    await expect(`/repo/local/v2/${Array(200).fill('ab').join('/')}/tags/list`, 400, 'NAME_INVALID');
    // A read of a name that cannot be a tag finds nothing (404, as the OCI conformance suite wants);
    // a write under it is refused as invalid.
    await expect(`/repo/local/v2/app/manifests/${'t'.repeat(129)}`, 404, 'MANIFEST_UNKNOWN');
    await expect('/repo/local/v2/app/manifests/-bad', 404, 'MANIFEST_UNKNOWN');
    const put = await req('PUT', '/repo/local/v2/app/manifests/-bad');
    assert.equal(put.status, 400);
    assert.equal((JSON.parse(put.body.toString()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'TAG_INVALID');
    await expect('/repo/local/v2/app/blobs/sha256:abc', 400, 'DIGEST_INVALID');
    await expect(`/repo/local/v2/app/blobs/md5:${'a'.repeat(32)}`, 400, 'DIGEST_INVALID');
    await expect(`/repo/local/v2/app/blobs/sha256:${'A'.repeat(64)}`, 400, 'DIGEST_INVALID');
    await expect(`/repo/local/v2/app/manifests/sha512:${'a'.repeat(64)}`, 400, 'DIGEST_INVALID');
    assert.equal((await req('GET', `/repo/local/v2/${'x/'.repeat(2000)}manifests/v1`)).status, 404, 'absurdly long paths are not parsed at all');
  });

  it('manifests with thousands of references, malformed JSON, wrong types: refused quickly, 4xx', async () => {
    const layers = Array.from({ length: 5000 }, (_, i) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', size: i, digest: sha256(new Uint8Array([i % 256, i >> 8])) }));
    const big = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: layers[0], layers });
    const t0 = Date.now();
    const r = await req('PUT', '/repo/local/v2/app/manifests/huge', { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }, big);
    assert.equal(r.status, 404);
    assert.match(r.body.toString(), /MANIFEST_BLOB_UNKNOWN/);
    assert.ok(Date.now() - t0 < 3000);
    for (const [body, type] of [['{', 'application/vnd.oci.image.manifest.v1+json'], ['[]', 'application/vnd.oci.image.manifest.v1+json'], ['{"schemaVersion":2}', 'text/html'], ['\u0000\u0001', 'application/octet-stream'], ['{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"x","size":1,"mediaType":"a/b"},"layers":[]}', 'application/vnd.oci.image.manifest.v1+json']] as const) {
      const m = await req('PUT', '/repo/local/v2/app/manifests/bad', { 'content-type': type }, body);
      assert.equal(m.status, 400, `${type} ${body}`);
    }
  });

  it('bogus Range headers: full body or 416, never 500', async () => {
    const m = JSON.parse((await req('GET', '/repo/local/v2/app/manifests/v1', { accept: 'application/vnd.docker.distribution.manifest.v2+json' })).body.toString()) as { layers: Array<{ digest: string; size: number }> };
    const layer = m.layers[0];
    assert.ok(layer);
    for (const range of ['bytes=abc', 'bytes=5-2', 'bytes=-0', 'items=0-1', 'bytes=0-1,5-6', 'bytes=99999999999999999999-', 'bytes=--1', 'bytes= 1-2', `bytes=${layer.size}-`]) {
      const r = await req('GET', `/repo/local/v2/app/blobs/${layer.digest}`, { range });
      assert.ok([200, 206, 416].includes(r.status), `${range} → ${r.status}`);
      if (r.status === 200) assert.equal(r.body.byteLength, layer.size, range);
    }
  });

  it('broken Content-Length and chunk offsets that do not line up', async () => {
    for (const len of ['-1', '99999999999999999999', 'abc', '1, 2']) {
      const r = await req('PATCH', '/repo/local/v2/app/blobs/uploads/x', { 'content-length': len }).catch(() => ({ status: 400 }));
      assert.equal(r.status, 400, len);
    }
    const start = await req('POST', '/repo/local/v2/app/blobs/uploads/');
    const loc = String(start.headers['location']);
    for (const cr of ['5-9', '0-2', 'x-y', '9-0', '0-99999999999999999999']) {
      const r = await req('PATCH', loc, { 'content-range': cr, 'content-length': '5' }, 'hello');
      assert.equal(r.status, 416, cr);
    }
    assert.equal((await req('GET', '/-/health')).status, 200, 'still serving');
  });
});
