import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { it } from 'node:test';
import { makeImage, makeIndex, pushBlob, pushImage, sha256 } from '../helpers/images.ts';
import type { Blob, TestImage } from '../helpers/images.ts';

/**
 * The OCI distribution-spec v1.1 endpoints (pull, push, content discovery, content management),
 * written from the spec, against a local repo at `base()` (e.g. http://127.0.0.1:port/repo/local).
 * The tests run in order and build on each other, like the spec's own conformance suite.
 */
export function conformanceSuite(base: () => string): void {
  const b = (path: string): string => `${base()}/v2/${path}`;
  const json = (r: Response): Promise<Record<string, unknown>> => r.json() as Promise<Record<string, unknown>>;
  async function error(res: Response, status: number, code: string): Promise<void> {
    assert.equal(res.status, status, `${res.url} → ${res.status}, want ${status}`);
    const body = (await res.json()) as { errors?: Array<{ code: string }> };
    assert.equal(body.errors?.[0]?.code, code, JSON.stringify(body));
  }
  const blob = (n: number): Blob => {
    const bytes = new Uint8Array(randomBytes(n));
    return { bytes, digest: sha256(bytes), mediaType: 'application/octet-stream' };
  };
  let img: TestImage;
  let img2: TestImage;

  it('push: monolithic POST ?digest=, and POST then PUT', async () => {
    const a = blob(3000);
    const r = await fetch(`${b('conf/app/blobs/uploads/')}?digest=${a.digest}`, { method: 'POST', body: a.bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 201);
    assert.match(r.headers.get('location') ?? '', new RegExp(`/conf/app/blobs/${a.digest}$`));
    const head = await fetch(b(`conf/app/blobs/${a.digest}`), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '3000');
    assert.equal(head.headers.get('docker-content-digest'), a.digest);
    const c = blob(10);
    await pushBlob(base(), 'conf/app', c);
    assert.deepEqual(new Uint8Array(await (await fetch(b(`conf/app/blobs/${c.digest}`))).arrayBuffer()), c.bytes);
  });

  it('push: chunked upload with status, out-of-order chunk refused with 416, resume', async () => {
    const data = blob(5000);
    const start = await fetch(b('conf/app/blobs/uploads/'), { method: 'POST' });
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('range'), '0-0');
    assert.ok(start.headers.get('docker-upload-uuid'));
    const loc = new URL(start.headers.get('location') ?? '', base());
    const patch = (from: number, to: number, at = from): Promise<Response> =>
      fetch(loc, {
        method: 'PATCH',
        body: data.bytes.subarray(from, to),
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${at}-${at + (to - from) - 1}` },
      });
    const p1 = await patch(0, 2000);
    assert.equal(p1.status, 202);
    assert.equal(p1.headers.get('range'), '0-1999');
    const st = await fetch(loc);
    assert.equal(st.status, 204);
    assert.equal(st.headers.get('range'), '0-1999');
    const bad = await patch(3000, 4000);
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('range'), '0-1999');
    assert.equal((await patch(2000, 5000)).status, 202);
    const fin = new URL(loc);
    fin.searchParams.set('digest', data.digest);
    const put = await fetch(fin, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    assert.equal(put.headers.get('docker-content-digest'), data.digest);
    assert.deepEqual(new Uint8Array(await (await fetch(b(`conf/app/blobs/${data.digest}`))).arrayBuffer()), data.bytes);
    await error(await fetch(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('push: a wrong digest stores nothing; DELETE cancels a session', async () => {
    const data = blob(100);
    const start = await fetch(b('conf/app/blobs/uploads/'), { method: 'POST' });
    const loc = new URL(start.headers.get('location') ?? '', base());
    const fin = new URL(loc);
    fin.searchParams.set('digest', sha256(new Uint8Array([1])));
    await error(await fetch(fin, { method: 'PUT', body: data.bytes }), 400, 'DIGEST_INVALID');
    await error(await fetch(b(`conf/app/blobs/${sha256(new Uint8Array([1]))}`)), 404, 'BLOB_UNKNOWN');
    assert.equal((await fetch(loc, { method: 'DELETE' })).status, 204);
    await error(await fetch(loc), 404, 'BLOB_UPLOAD_UNKNOWN');
    await error(await fetch(`${b('conf/app/blobs/uploads/')}?digest=sha256:abc`, { method: 'POST', body: 'x' }), 400, 'DIGEST_INVALID');
  });

  it('push: manifests need their blobs; digest over the exact bytes; limits and validation', async () => {
    img = await makeImage({ layerSizes: [2048, 4096] });
    const put = (ref: string, bytes: Uint8Array | string, type: string): Promise<Response> =>
      fetch(b(`conf/app/manifests/${ref}`), { method: 'PUT', body: bytes, headers: { 'content-type': type } });
    await error(await put('v1', img.manifest.bytes, img.manifest.mediaType), 404, 'MANIFEST_BLOB_UNKNOWN');
    await pushImage(base(), 'conf/app', 'v1', img);
    const again = await put(img.manifest.digest, img.manifest.bytes, img.manifest.mediaType);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('docker-content-digest'), img.manifest.digest);
    assert.match(again.headers.get('location') ?? '', new RegExp(`/conf/app/manifests/${img.manifest.digest}$`));
    await error(await put(sha256(new Uint8Array([9])), img.manifest.bytes, img.manifest.mediaType), 400, 'DIGEST_INVALID');
    await error(await put('bad', '{not json', img.manifest.mediaType), 400, 'MANIFEST_INVALID');
    await error(await put('bad', img.manifest.bytes, 'application/vnd.oci.image.index.v1+json'), 400, 'MANIFEST_INVALID');
    await error(await put('bad', JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', layers: [] }), 'application/vnd.oci.image.manifest.v1+json'), 400, 'MANIFEST_INVALID');
    await error(await put('bad:tag', img.manifest.bytes, img.manifest.mediaType), 400, 'DIGEST_INVALID');
    const big = await put('big', new Uint8Array(5 * 1024 * 1024).fill(32), img.manifest.mediaType);
    assert.equal(big.status, 413);
  });

  it('push: ?tag= on a push by digest applies every tag and answers OCI-Tag; sha512 stays sha512', async () => {
    await pushImage(base(), 'conf/tagparam', 'base', img);
    const sha512 = `sha512:${createHash('sha512').update(img.manifest.bytes).digest('hex')}`;
    const put = (ref: string, query: string): Promise<Response> =>
      fetch(`${b(`conf/tagparam/manifests/${ref}`)}${query}`, { method: 'PUT', body: img.manifest.bytes, headers: { 'content-type': img.manifest.mediaType } });
    const r = await put(sha512, '?tag=t1&tag=t2&tag=t1');
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('docker-content-digest'), sha512);
    assert.deepEqual((r.headers.get('oci-tag') ?? '').split(',').map((t) => t.trim()).sort(), ['t1', 't2']);
    for (const t of ['t1', 't2']) assert.equal((await fetch(b(`conf/tagparam/manifests/${t}`), { method: 'HEAD' })).headers.get('docker-content-digest'), sha512, t);
    // Refused before anything is written: a bad tag among good ones, tags on a push by tag.
    await error(await put(img.manifest.digest, '?tag=ok&tag=bad:tag'), 400, 'TAG_INVALID');
    await error(await put('t3', '?tag=t4'), 400, 'TAG_INVALID');
    for (const t of ['ok', 't3', 't4']) await error(await fetch(b(`conf/tagparam/manifests/${t}`)), 404, 'MANIFEST_UNKNOWN');
  });

  it('push: an index needs its manifests; mounts link blobs from another image', async () => {
    img2 = await makeImage({ layerSizes: [1000], oci: true });
    const index = makeIndex([{ image: img, arch: 'amd64' }, { image: img2, arch: 'arm64' }]);
    const putIndex = (): Promise<Response> =>
      fetch(b('conf/app/manifests/multi'), { method: 'PUT', body: index.bytes, headers: { 'content-type': index.mediaType } });
    await error(await putIndex(), 404, 'MANIFEST_BLOB_UNKNOWN');
    const layer = img2.layers[0];
    assert.ok(layer);
    await pushBlob(base(), 'conf/other', layer);
    const mount = await fetch(`${b('conf/app/blobs/uploads/')}?mount=${layer.digest}&from=${prefix()}conf/other`, { method: 'POST' });
    assert.equal(mount.status, 201, await mount.text());
    assert.equal(mount.headers.get('docker-content-digest'), layer.digest);
    const miss = await fetch(`${b('conf/app/blobs/uploads/')}?mount=${sha256(new Uint8Array([7]))}&from=${prefix()}conf/other`, { method: 'POST' });
    assert.equal(miss.status, 202, 'an unmountable blob falls back to an upload session');
    // Mount without `from` (automatic content discovery): the blob is found in another image.
    const config2 = img2.config;
    await pushBlob(base(), 'conf/third', config2);
    const discovered = await fetch(`${b('conf/fourth/blobs/uploads/')}?mount=${config2.digest}`, { method: 'POST' });
    assert.equal(discovered.status, 201, await discovered.text());
    assert.equal(discovered.headers.get('docker-content-digest'), config2.digest);
    assert.equal((await fetch(b(`conf/fourth/blobs/${config2.digest}`), { method: 'HEAD' })).status, 200);
    const unknownAnywhere = await fetch(`${b('conf/fourth/blobs/uploads/')}?mount=${sha256(new Uint8Array([8]))}`, { method: 'POST' });
    assert.equal(unknownAnywhere.status, 202, 'a blob no readable repo holds gets an upload session');
    await pushImage(base(), 'conf/app', 'arm', img2);
    const ok = await putIndex();
    assert.equal(ok.status, 201, await ok.text());
    const got = await fetch(b('conf/app/manifests/multi'), { headers: { accept: index.mediaType } });
    assert.deepEqual(new Uint8Array(await got.arrayBuffer()), index.bytes);
  });

  it('pull: manifests by tag and digest, HEAD, unknowns', async () => {
    for (const ref of ['v1', img.manifest.digest]) {
      const r = await fetch(b(`conf/app/manifests/${ref}`));
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), img.manifest.mediaType);
      assert.equal(r.headers.get('docker-content-digest'), img.manifest.digest);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), img.manifest.bytes);
      const h = await fetch(b(`conf/app/manifests/${ref}`), { method: 'HEAD' });
      assert.equal(h.status, 200);
      assert.equal(h.headers.get('content-length'), String(img.manifest.bytes.byteLength));
      assert.equal(h.headers.get('docker-content-digest'), img.manifest.digest);
    }
    await error(await fetch(b('conf/app/manifests/nope')), 404, 'MANIFEST_UNKNOWN');
    await error(await fetch(b('conf/nothing/manifests/v1')), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(b('conf/app/manifests/nope'), { method: 'HEAD' })).status, 404);
    // What OCI conformance v1.1.1 asks: a reference that cannot be a tag names no manifest → 404.
    await error(await fetch(b('conf/app/manifests/.INVALID_MANIFEST_NAME')), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(b('conf/app/manifests/.INVALID_MANIFEST_NAME'), { method: 'HEAD' })).status, 404);
  });

  it('pull: blobs whole and by Range; unknown and invalid digests', async () => {
    const layer = img.layers[1];
    assert.ok(layer);
    const part = await fetch(b(`conf/app/blobs/${layer.digest}`), { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${layer.bytes.byteLength}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), layer.bytes.subarray(100, 200));
    assert.equal((await fetch(b(`conf/app/blobs/${layer.digest}`), { headers: { range: 'bytes=999999-' } })).status, 416);
    await error(await fetch(b(`conf/app/blobs/${sha256(new Uint8Array([5]))}`)), 404, 'BLOB_UNKNOWN');
    await error(await fetch(b('conf/app/blobs/sha256:zz')), 400, 'DIGEST_INVALID');
    await error(await fetch(b(`conf/other/blobs/${img.layers[0]?.digest}`)), 404, 'BLOB_UNKNOWN');
  });

  it('content discovery: tags list in lexical order with n/last and Link', async () => {
    for (const t of ['b', 'a', 'C', '10', '9']) {
      const r = await fetch(b(`conf/app/manifests/${t}`), { method: 'PUT', body: img.manifest.bytes, headers: { 'content-type': img.manifest.mediaType } });
      assert.equal(r.status, 201);
    }
    const all = (await json(await fetch(b('conf/app/tags/list')))) as { name: string; tags: string[] };
    assert.equal(all.name, 'conf/app');
    assert.deepEqual(all.tags, ['10', '9', 'C', 'a', 'arm', 'b', 'multi', 'v1']);
    const p1 = await fetch(b('conf/app/tags/list?n=3'));
    assert.deepEqual(((await json(p1)) as { tags: string[] }).tags, ['10', '9', 'C']);
    const link = p1.headers.get('link') ?? '';
    assert.match(link, /rel="next"/);
    const next = new URL(/<([^>]+)>/.exec(link)?.[1] ?? '', base());
    assert.deepEqual(((await json(await fetch(next))) as { tags: string[] }).tags, ['a', 'arm', 'b']);
    const last = await fetch(b('conf/app/tags/list?n=10&last=b'));
    assert.deepEqual(((await json(last)) as { tags: string[] }).tags, ['multi', 'v1']);
    assert.equal(last.headers.get('link'), null);
    await error(await fetch(b('conf/none/tags/list')), 404, 'NAME_UNKNOWN');
  });

  it('content discovery: catalog with pagination', async () => {
    const r = (await json(await fetch(`${base()}/v2/_catalog`))) as { repositories: string[] };
    assert.ok(r.repositories.includes('conf/app') && r.repositories.includes('conf/other'), r.repositories.join());
    const p = await fetch(`${base()}/v2/_catalog?n=1`);
    assert.equal(((await json(p)) as { repositories: string[] }).repositories.length, 1);
    assert.match(p.headers.get('link') ?? '', /_catalog\?n=1&last=/);
  });

  it('content discovery: referrers with artifactType filter, OCI-Subject on push', async () => {
    const empty = await fetch(b(`conf/app/referrers/${img2.manifest.digest}`));
    assert.equal(empty.status, 200);
    assert.equal(empty.headers.get('content-type'), 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(((await json(empty)) as { manifests: unknown[] }).manifests, []);
    const cfg = { bytes: new TextEncoder().encode('{}'), mediaType: 'application/vnd.oci.empty.v1+json' };
    const cfgBlob = { ...cfg, digest: sha256(cfg.bytes) };
    await pushBlob(base(), 'conf/app', cfgBlob);
    const sig = (type: string): Uint8Array =>
      new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: type,
        config: { mediaType: cfgBlob.mediaType, digest: cfgBlob.digest, size: cfgBlob.bytes.byteLength },
        layers: [],
        subject: { mediaType: img2.manifest.mediaType, digest: img2.manifest.digest, size: img2.manifest.bytes.byteLength },
        annotations: { 'org.example.kind': type },
      }));
    for (const t of ['application/vnd.example.sig', 'application/vnd.example.sbom']) {
      const bytes = sig(t);
      const r = await fetch(b(`conf/app/manifests/${sha256(bytes)}`), { method: 'PUT', body: bytes, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(r.status, 201, await r.text());
      assert.equal(r.headers.get('oci-subject'), img2.manifest.digest);
    }
    const all = (await json(await fetch(b(`conf/app/referrers/${img2.manifest.digest}`)))) as { manifests: Array<{ artifactType: string; digest: string }> };
    assert.equal(all.manifests.length, 2);
    const f = await fetch(b(`conf/app/referrers/${img2.manifest.digest}?artifactType=application/vnd.example.sbom`));
    assert.equal(f.headers.get('oci-filters-applied'), 'artifactType');
    const only = (await json(f)) as { manifests: Array<{ artifactType: string; annotations: Record<string, string> }> };
    assert.deepEqual(only.manifests.map((m) => m.artifactType), ['application/vnd.example.sbom']);
    assert.equal(only.manifests[0]?.annotations['org.example.kind'], 'application/vnd.example.sbom');
  });

  it('content management: delete tag, manifest, blob', async () => {
    assert.equal((await fetch(b('conf/app/manifests/a'), { method: 'DELETE' })).status, 202);
    await error(await fetch(b('conf/app/manifests/a')), 404, 'MANIFEST_UNKNOWN');
    assert.equal((await fetch(b('conf/app/manifests/b'))).status, 200, 'other tags of the digest stay');
    assert.equal((await fetch(b(`conf/app/manifests/${img2.manifest.digest}`), { method: 'DELETE' })).status, 202);
    await error(await fetch(b(`conf/app/manifests/${img2.manifest.digest}`)), 404, 'MANIFEST_UNKNOWN');
    await error(await fetch(b('conf/app/manifests/arm')), 404, 'MANIFEST_UNKNOWN');
    await error(await fetch(b(`conf/app/manifests/${img2.manifest.digest}`), { method: 'DELETE' }), 404, 'MANIFEST_UNKNOWN');
    const layer = img.layers[0];
    assert.ok(layer);
    assert.equal((await fetch(b(`conf/app/blobs/${layer.digest}`), { method: 'DELETE' })).status, 202);
    await error(await fetch(b(`conf/app/blobs/${layer.digest}`)), 404, 'BLOB_UNKNOWN');
    assert.equal((await fetch(b('conf/app/manifests/v1'), { method: 'POST' })).status, 405);
  });

  /** The mount `from` name as the client writes it: the repo prefix only in repository-path style. */
  function prefix(): string {
    return base().includes('/repo/') ? '' : `${base().split('/').pop() ?? ''}/`;
  }
}
