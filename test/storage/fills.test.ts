import { watchedStream } from '../../src/http/chunk-source.ts';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FillManager } from '../../src/cache/fill-manager.ts';
import { BlobStore } from '../../src/storage/blob-store.ts';
import { digestOf } from '../../src/storage/digest.ts';
import { FsDriver } from '../../src/storage/fs.ts';
import { tempDir } from '../helpers/tmp.ts';

async function* slowly(data: Uint8Array, release: Promise<void>): AsyncGenerator<Uint8Array> {
  yield data.subarray(0, 1000);
  await release;
  yield data.subarray(1000);
}

// Issue 10: fills keyed by a cache key; a digest known up front is verified, else computed.
describe('fills by cache key', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let blobs: BlobStore;
  before(async () => {
    dir = await tempDir('fills-');
    blobs = new BlobStore(new FsDriver(dir.path), () => randomUUID());
  });
  after(() => dir?.cleanup());

  it('without a digest up front: one fill per key, the digest computed and the blob stored under it', async () => {
    const fills = new FillManager(blobs);
    const data = new Uint8Array(randomBytes(50_000));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let starts = 0;
    const start = async () => {
      starts++;
      return { body: slowly(data, gate), size: undefined };
    };
    const a = fills.join('generic:files/x.tar.gz', undefined, start);
    const b = fills.join('generic:files/x.tar.gz', undefined, start);
    assert.equal(a.fill, b.fill);
    assert.equal(b.coalesced, true);
    const reader = new Response(watchedStream(a.fill.cursor())).arrayBuffer();
    release();
    const stored = await a.fill.done;
    assert.equal(starts, 1);
    assert.equal(stored.digest.value, digestOf(data).value);
    assert.deepEqual(new Uint8Array(await reader), data);
    assert.ok(await blobs.stat(stored.digest));
  });

  it('with a digest up front: bytes that do not match are refused and nothing is stored', async () => {
    const fills = new FillManager(blobs);
    const data = new Uint8Array(randomBytes(10_000));
    const wrong = digestOf(new Uint8Array([1, 2, 3]));
    const { fill } = fills.join(wrong.value, wrong, async () => ({ body: slowly(data, Promise.resolve()), size: undefined }));
    await assert.rejects(fill.done);
    assert.equal(await blobs.stat(digestOf(data)), null);
  });

  // Issue 24, 2: a client looks in the store (a miss), and before it joins, the one download of the
  // same key completes, links its document and is forgotten. Joining with the ticket taken before
  // the look gets that download (complete) instead of starting a second upstream GET. This is the
  // interleaving that gave 2 upstream GETs for 8 concurrent helm pulls on a loaded machine.
  it('a fill that settled between a client\'s store check and its join is joined, not fetched again', async () => {
    const fills = new FillManager(blobs);
    const data = new Uint8Array(randomBytes(20_000));
    let starts = 0;
    const start = async () => {
      starts++;
      return { body: slowly(data, Promise.resolve()), size: data.byteLength };
    };
    const ticket = fills.ticket(); // client B, before its store check
    const a = fills.join('helm:charts:app-1.0.0.tgz', undefined, start, 'charts', async () => {});
    await a.fill.done;
    await fills.idle(); // A's fill is committed, linked and forgotten
    assert.equal(fills.inFlight('helm:charts:app-1.0.0.tgz'), undefined);
    const b = fills.join('helm:charts:app-1.0.0.tgz', undefined, start, 'charts', async () => {}, Number.POSITIVE_INFINITY, ticket);
    assert.equal(starts, 1, 'one upstream download');
    assert.equal(b.coalesced, true);
    assert.equal(b.fill, a.fill);
    assert.deepEqual(new Uint8Array(await new Response(watchedStream(b.fill.cursor())).arrayBuffer()), data);
    // A client whose look came after the settling saw the document; one that joins with a newer
    // ticket (or none) and finds nothing in flight starts a fresh download, as a revalidation must.
    const c = fills.join('helm:charts:app-1.0.0.tgz', undefined, start, 'charts', async () => {}, Number.POSITIVE_INFINITY, fills.ticket());
    assert.equal(c.coalesced, false);
    await c.fill.done;
    assert.equal(starts, 2);
  });
});
