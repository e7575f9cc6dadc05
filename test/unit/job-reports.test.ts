import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkStore } from '../../src/jobs/fsck.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 23 (a neutral core): job reports count what the formats report. Eviction counted generic
// files as "manifests"; fsck kept three count keys and dropped the rest.
describe('job reports in the formats\' own words', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  before(async () => {
    work = await tempDir('job-reports-');
    await mkdir(join(work.path, 'www'), { recursive: true });
    for (let i = 0; i < 4; i++) await writeFile(join(work.path, 'www', `f${i}.bin`), new Uint8Array(100_000).fill(i));
    ngx = await startStaticNginx(join(work.path, 'www'), work.path);
    br = await startServer({ config: { repos: [{ name: 'dl', format: 'generic', type: 'remote', upstream: { url: ngx.url }, cache: { maxBytes: 250_000 } }] } });
    for (let i = 0; i < 4; i++) await (await fetch(`${br.url}/repo/dl/f${i}.bin`)).arrayBuffer();
    await br.server.fills.idle();
  });
  after(() => closeAll(() => br?.close(), () => ngx?.stop(), () => work?.cleanup()));

  it('eviction of a generic remote reports files, not manifests', async () => {
    const [rep] = await br.server.evictor.run(true);
    assert.ok(rep);
    assert.equal(rep.manifests, 0);
    assert.ok((rep.removed['file'] ?? 0) >= 2, JSON.stringify(rep.removed));
    assert.deepEqual(Object.keys(rep.removed), ['file']);
  });

  it('fsck keeps every count a format reports', async () => {
    const report = await checkStore(br.server, false);
    assert.equal(report.counts['files'], 4);
    assert.deepEqual(report.problems, []);
  });
});
