import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 24, 23: the CLI emptied v1/tmp at start on an fs store, so an `import` (or gc, fsck…) beside
// a running server made a PUT in flight fail with 500. Now it leaves temp files that are being written.
describe('the CLI beside a running server', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  let cfgFile: string;
  before(async () => {
    work = await tempDir('cli-beside-');
    const dataDir = join(work.path, 'data');
    await mkdir(dataDir);
    const repos = [{ name: 'files', format: 'generic', type: 'local' }];
    br = await startServer({ dataDir, config: { repos } });
    cfgFile = join(work.path, 'config.json');
    await writeFile(cfgFile, JSON.stringify({ listen: '127.0.0.1:0', storage: { type: 'fs', path: dataDir }, repos }));
  });
  after(async () => {
    await br?.close();
    await work?.cleanup();
  });

  it('fsck while a PUT is half sent: the PUT still lands whole', async () => {
    const half = new Uint8Array(256 * 1024).fill(1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let sentFirst!: () => void;
    const firstSent = new Promise<void>((r) => (sentFirst = r));
    let step = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (step === 0) {
          step++;
          c.enqueue(half);
          sentFirst();
          return;
        }
        await gate;
        c.enqueue(half);
        c.close();
      },
    });
    const put = fetch(`${br.url}/repo/files/big.bin`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
    await firstSent;
    // The server's temp file for this write exists before the CLI starts (bounded wait for it).
    const tmp = join(br.dataDir, 'v1', 'tmp');
    for (const deadline = Date.now() + 10_000; (await readdir(tmp).catch(() => [])).length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await readdir(tmp)).length, 1, 'the write is in flight');
    const fsck = await cli(['fsck', '--config', cfgFile]);
    assert.equal(fsck.code, 0, fsck.stderr);
    assert.equal((await readdir(tmp)).length, 1, 'the CLI left the temp file of the write in flight');
    release();
    const res = await put;
    assert.equal(res.status, 201, await res.text());
    const got = new Uint8Array(await (await fetch(`${br.url}/repo/files/big.bin`)).arrayBuffer());
    assert.equal(got.byteLength, 512 * 1024);
  });
});
