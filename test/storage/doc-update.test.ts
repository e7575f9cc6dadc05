import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FsDriver } from '../../src/storage/fs.ts';
import { MetaStore } from '../../src/storage/meta-store.ts';
import { s3Driver } from '../helpers/s3.ts';
import { tempDir } from '../helpers/tmp.ts';

type Doc = { versions: string[] };

/** `writers` writers each adding `each` versions to one document at once; resolves with every change() call counted. */
async function race(stores: MetaStore[], key: string, each: number): Promise<number> {
  let calls = 0;
  await Promise.all(
    stores.map(async (meta, w) => {
      for (let i = 0; i < each; i++) {
        await meta.update<Doc>(key, (cur) => {
          calls++;
          const v = `w${w}-${i}`;
          const versions = cur?.versions ?? [];
          return versions.includes(v) ? undefined : { versions: [...versions, v] };
        });
      }
    }),
  );
  return calls;
}

// Issue 23 (the kit): one compare-and-swap update for documents several writers change (npm
// packuments, Maven metadata, Cargo index files, Debian indexes), on fs and on S3 (a conditional
// PUT): 8 concurrent writers, and no change is lost.
describe('compare-and-swap document updates', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('doc-update-');
  });
  after(() => dir?.cleanup());

  it('fs: 8 writers × 25 changes to one document, all 200 kept', async () => {
    const meta = new MetaStore(new FsDriver(dir.path), () => randomUUID());
    await race(Array.from({ length: 8 }, () => meta), 'v1/repos/npm/doc', 25);
    const doc = await meta.get<Doc>('v1/repos/npm/doc', { remember: false });
    assert.equal(doc?.versions.length, 200);
    assert.equal(new Set(doc?.versions).size, 200);
  });

  it('S3 (Ceph RGW): 8 replicas (stores of their own) × 10 changes, all 80 kept, conflicts retried', async () => {
    const prefix = `t-${randomUUID()}`;
    const stores = await Promise.all(Array.from({ length: 8 }, async () => new MetaStore(await s3Driver(dir.path, prefix), () => randomUUID(), Date.now, true)));
    const calls = await race(stores, 'v1/repos/npm/doc', 10);
    const doc = await stores[0]?.get<Doc>('v1/repos/npm/doc');
    assert.equal(doc?.versions.length, 80);
    assert.equal(new Set(doc?.versions).size, 80);
    assert.ok(calls > 80, `the writers did collide (${calls} change() calls for 80 changes), and each retry read the newer version`);
  });
});
