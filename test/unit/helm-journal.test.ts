import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HelmLocal } from '../../src/formats/helm/local.ts';
import { helmLayout } from '../../src/formats/helm/layout.ts';
import type { SnapshotDoc } from '../../src/formats/helm/journal.ts';
import { BlobStore } from '../../src/storage/blob-store.ts';
import { FsDriver } from '../../src/storage/fs.ts';
import { MetaStore } from '../../src/storage/meta-store.ts';
import { RwLock } from '../../src/util/rwlock.ts';
import { createLogger } from '../../src/log.ts';
import { tarGz } from '../helpers/helm.ts';
import { tempDir } from '../helpers/tmp.ts';

const chart = (name: string, version: string): Promise<Uint8Array> => tarGz([{ name: `${name}/Chart.yaml`, data: `apiVersion: v2\nname: ${name}\nversion: ${version}\n` }]);
async function* once(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}

// Issue 12: a hosted repo starts from a snapshot plus a journal of later changes, never loses a
// change to a crash between a journal entry and its document, and falls back to reading every
// document when the snapshot is gone.
describe('Helm hosted index: snapshot and journal', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const open = () => {
    const driver = new FsDriver(dir.path);
    const meta = new MetaStore(driver, () => randomUUID());
    const blobs = new BlobStore(driver, () => randomUUID());
    const repo = new HelmLocal({ repo: 'charts', blobs, meta, gcGate: new RwLock(), now: Date.now, log: createLogger(() => {}, 'error'), allowOverwrite: false, allowDelete: true, maxChartBytes: 1 << 20, indexFormat: 'yaml', snapshotEvery: 3 });
    return { repo, meta };
  };
  const versions = async (repo: HelmLocal): Promise<string[]> => [...(await repo.entries()).entries].flatMap(([n, es]) => es.map((e) => `${n}@${e.version}`)).sort();
  before(async () => {
    dir = await tempDir('helm-journal-');
  });
  after(() => dir?.cleanup());

  it('replays the journal over the snapshot, skips entries whose change never landed, and reads everything without a snapshot', async () => {
    const first = open();
    for (const [n, v] of [['a', '1.0.0'], ['a', '1.1.0'], ['b', '0.1.0'], ['c', '2.0.0'], ['d', '0.0.1']] as const) await first.repo.upload(once(await chart(n, v)));
    await first.repo.delete('a', '1.0.0');
    const snap = await first.meta.get<SnapshotDoc>(helmLayout.snapshot('charts'));
    assert.equal(snap?.generation, 6, 'a snapshot after every 3 changes (the delete was the 6th)');
    // A crash after a journal entry, before its document: the entry names a version that is not there.
    await first.meta.put(`${helmLayout.root('charts')}/journal/${'9'.padStart(15, '0')}`, { name: 'ghost', version: '1.0.0' });
    const want = ['a@1.1.0', 'b@0.1.0', 'c@2.0.0', 'd@0.0.1'];
    assert.deepEqual(await versions(first.repo), want);
    assert.deepEqual(await versions(open().repo), want, 'snapshot + journal');
    await rm(join(dir.path, 'v1', 'blobs'), { recursive: true, force: true });
    await rm(join(dir.path, ...helmLayout.snapshot('charts').split('/')), { force: true });
    assert.deepEqual(await versions(open().repo), want, 'every document, no snapshot');
  });
});
