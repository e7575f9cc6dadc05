import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HelmLocal } from '../../src/formats/helm/local.ts';
import { createLogger } from '../../src/log.ts';
import { BlobStore } from '../../src/storage/blob-store.ts';
import { MetaStore } from '../../src/storage/meta-store.ts';
import { RwLock } from '../../src/util/rwlock.ts';
import { tarGz } from '../helpers/helm.ts';
import { s3Driver } from '../helpers/s3.ts';
import { tempDir } from '../helpers/tmp.ts';

const chart = (name: string, version: string): Promise<Uint8Array> => tarGz([{ name: `${name}/Chart.yaml`, data: `apiVersion: v2\nname: ${name}\nversion: ${version}\n` }]);
async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}

/**
 * A hosted chart repo served by several replicas over one bucket: each keeps the index in memory,
 * and every read first lists the shared journal, so a chart uploaded or deleted through one replica
 * is in (or out of) the others' index.yaml at once, through snapshots written by either side.
 */
describe('Helm hosted index over one bucket, changed through two replicas', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const prefix = `helm-${randomUUID()}`;
  const replica = async (): Promise<HelmLocal> => {
    const driver = await s3Driver(`${dir.path}/spool`, prefix);
    const meta = new MetaStore(driver, () => randomUUID(), Date.now, true);
    const blobs = new BlobStore(driver, () => randomUUID());
    return new HelmLocal({ repo: 'charts', blobs, meta, gcGate: new RwLock(), now: Date.now, log: createLogger(() => {}, 'error'), allowOverwrite: false, allowDelete: true, maxChartBytes: 1 << 20, indexFormat: 'yaml', snapshotEvery: 3 });
  };
  const versions = async (repo: HelmLocal): Promise<string[]> => [...(await repo.entries()).entries].flatMap(([n, es]) => es.map((e) => `${n}@${e.version}`)).sort();
  before(async () => {
    dir = await tempDir('helm-replicas-');
  });
  after(() => dir?.cleanup());

  it('uploads and deletes through either replica show through the other at once, across snapshots', async () => {
    const a = await replica();
    const b = await replica();
    const want = new Set<string>();
    assert.deepEqual(await versions(b), []);
    // Alternate the replica for every change; a snapshot every 3 changes, written by whichever
    // replica makes the third, deletes the journal entries the other had applied.
    const steps: Array<[HelmLocal, 'up' | 'del', string, string]> = [
      [a, 'up', 'web', '1.0.0'],
      [b, 'up', 'web', '1.1.0'],
      [a, 'up', 'db', '0.1.0'],
      [b, 'del', 'web', '1.0.0'],
      [a, 'up', 'cache', '2.0.0'],
      [b, 'up', 'db', '0.2.0'],
      [a, 'del', 'db', '0.1.0'],
      [b, 'up', 'web', '1.2.0'],
    ];
    for (const [i, [repo, op, name, version]] of steps.entries()) {
      if (op === 'up') {
        await repo.upload(once(await chart(name, version)));
        want.add(`${name}@${version}`);
      } else {
        await repo.delete(name, version);
        want.delete(`${name}@${version}`);
      }
      const expected = [...want].sort();
      assert.deepEqual(await versions(a), expected, `replica a after step ${i}`);
      assert.deepEqual(await versions(b), expected, `replica b after step ${i}`);
      const other = repo === a ? b : a;
      assert.match(new TextDecoder().decode(((await other.indexFile()) as { body: Uint8Array }).body), new RegExp(`version: "${[...want].at(-1)?.split('@')[1] ?? ''}"`));
    }
    // A version uploaded through one replica is a conflict through the other.
    await assert.rejects(b.upload(once(await chart('cache', '2.0.0'))), /already exists/);
    // A third replica starting now reads the same index from snapshot + journal.
    assert.deepEqual(await versions(await replica()), [...want].sort());
  });
});
