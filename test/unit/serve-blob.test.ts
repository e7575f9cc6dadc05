import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { serveBlob } from '../../src/http/serve-blob.ts';
import { DownloadGuard } from '../../src/http/download-guard.ts';
import { BlobStore } from '../../src/storage/blob-store.ts';
import { digestOf } from '../../src/storage/digest.ts';
import { FsDriver } from '../../src/storage/fs.ts';
import { isRegistryError } from '../../src/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 24, 32: a blob gone between its lookup and its open (evicted, collected) was answered with
// a bodyless 404; it is now a not_found error that each format renders in its own wire shape.
describe('serveBlob', () => {
  it('a blob that vanished is a not_found error for the format to render, not a bare 404', async () => {
    const dir = await tempDir('serve-blob-');
    try {
      const blobs = new BlobStore(new FsDriver(dir.path), () => randomUUID());
      const digest = digestOf(new TextEncoder().encode('never stored'));
      const deps = { blobs, runtime: { name: 'node', version: '20' }, downloads: new DownloadGuard({ maxPerClient: 0, sendIdleMs: 1000 }), client: '' };
      await assert.rejects(
        serveBlob(new Request('http://x/blob'), { kind: 'store', digest, size: 12 }, { 'content-type': 'application/octet-stream' }, deps),
        (e: unknown) => isRegistryError(e) && e.kind === 'not_found' && e.code === 'BLOB_UNKNOWN',
      );
    } finally {
      await dir.cleanup();
    }
  });
});
