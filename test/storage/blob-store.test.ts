import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobStore, cleanTemp } from '../../src/storage/blob-store.ts';
import { digestOf } from '../../src/storage/digest.ts';
import { FsDriver } from '../../src/storage/fs.ts';
import { RegistryError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}

describe('blob store: verify while writing', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let driver: FsDriver;
  let store: BlobStore;
  const tmpFiles = async (): Promise<string[]> => readdir(join(dir.path, 'v1', 'tmp')).catch(() => []);

  before(async () => {
    dir = await tempDir('blobstore-');
    driver = new FsDriver(dir.path);
    store = new BlobStore(driver, () => randomUUID());
  });
  after(() => dir.cleanup());

  it('stores streamed bytes under their digest', async () => {
    const data = randomBytes(1_000_000);
    const d = digestOf(data);
    const r = await store.put(chunks(data, 65536), { expectedDigest: d, expectedSize: data.byteLength });
    assert.equal(r.digest.value, d.value);
    assert.equal((await store.stat(d))?.size, data.byteLength);
    assert.deepEqual(await store.readAll(d, 2_000_000), new Uint8Array(data));
  });

  it('a digest mismatch stores nothing and leaves no temp file', async () => {
    const data = randomBytes(10_000);
    const wrong = digestOf(randomBytes(10));
    await assert.rejects(store.put(chunks(data, 1000), { expectedDigest: wrong }), (e: unknown) => e instanceof RegistryError && e.code === 'DIGEST_INVALID');
    assert.equal(await store.stat(wrong), null);
    assert.equal(await store.stat(digestOf(data)), null);
    assert.deepEqual(await tmpFiles(), []);
  });

  it('size mismatch (short or long) and maxBytes are refused while streaming', async () => {
    const data = randomBytes(5000);
    const d = digestOf(data);
    await assert.rejects(store.put(chunks(data, 1000), { expectedDigest: d, expectedSize: 4000 }), /more bytes/);
    await assert.rejects(store.put(chunks(data, 1000), { expectedDigest: d, expectedSize: 6000 }), /expected 6000/);
    await assert.rejects(store.put(chunks(data, 1000), { maxBytes: 4999 }), /limit/);
    assert.equal(await store.stat(d), null);
    assert.deepEqual(await tmpFiles(), []);
  });

  it('an aborted source leaves nothing behind', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield randomBytes(1000);
      throw new Error('client went away');
    }
    await assert.rejects(store.put(failing()), /client went away/);
    assert.deepEqual(await tmpFiles(), []);
  });

  it('concurrent puts of one digest all succeed with identical content', async () => {
    const data = randomBytes(300_000);
    const d = digestOf(data);
    const results = await Promise.all(Array.from({ length: 6 }, () => store.put(chunks(data, 7000), { expectedDigest: d })));
    for (const r of results) assert.equal(r.digest.value, d.value);
    assert.deepEqual(await store.readAll(d, 1_000_000), new Uint8Array(data));
    assert.deepEqual(await tmpFiles(), []);
  });

  it('crash leftovers in tmp are invisible as blobs and removed at start-up', async () => {
    const data = randomBytes(1000);
    const d = digestOf(data);
    await mkdir(join(dir.path, 'v1', 'tmp'), { recursive: true });
    await writeFile(join(dir.path, 'v1', 'tmp', 'crashed-fill'), data.subarray(0, 500));
    assert.equal(await store.stat(d), null);
    assert.equal(await cleanTemp(driver), 1);
    assert.deepEqual(await tmpFiles(), []);
  });
});
