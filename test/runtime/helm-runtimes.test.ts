import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { tarGz } from '../helpers/helm.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 12: chart uploads read the archive with the runtime's DecompressionStream and tar-stream;
// each runtime must give the same answers (Bun's decompression errors differ from Node's and Deno's).
for (const rt of ['bun', 'deno'] as const) {
  describe(`Helm uploads on ${rt}`, () => {
    let work: Awaited<ReturnType<typeof tempDir>>;
    let srv: ProcessServer;
    before(async () => {
      work = await tempDir(`helm-${rt}-`);
      srv = await startProcessServer(rt, { storage: { type: 'fs', path: join(work.path, 'data') }, repos: [{ name: 'charts', format: 'helm', type: 'local' }] }, work.path);
    });
    after(async () => {
      await srv?.stop();
      await work?.cleanup();
    });

    it('a raw and a multipart upload land in the index; not-gzip and a two-folder archive are 400 with the reason', async () => {
      const url = `${srv.url}/repo/charts/api/charts`;
      const raw = await fetch(url, { method: 'POST', body: await tarGz([{ name: 'c/Chart.yaml', data: 'apiVersion: v2\nname: c\nversion: 1.0.0\n' }]) });
      assert.equal(raw.status, 201, await raw.clone().text());
      const form = new FormData();
      form.append('chart', new Blob([await tarGz([{ name: 'd/Chart.yaml', data: 'apiVersion: v2\nname: d\nversion: 2.0.0\n' }])]), 'd-2.0.0.tgz');
      const multi = await fetch(url, { method: 'POST', body: form });
      assert.equal(multi.status, 201, await multi.clone().text());
      const notGzip = await fetch(url, { method: 'POST', body: new TextEncoder().encode('not an archive') });
      assert.equal(notGzip.status, 400);
      assert.match(((await notGzip.json()) as { error: string }).error, /not a gzip-compressed tar archive/);
      const twoTops = await fetch(url, { method: 'POST', body: await tarGz([{ name: 'a/Chart.yaml', data: 'apiVersion: v2\nname: a\nversion: 1.0.0\n' }, { name: 'b/x', data: 'x' }]) });
      assert.equal(twoTops.status, 400);
      assert.match(((await twoTops.json()) as { error: string }).error, /more than one top folder/);
      const index = parseYaml(await (await fetch(`${srv.url}/repo/charts/index.yaml`)).text()) as { entries: Record<string, unknown[]> };
      assert.deepEqual(Object.keys(index.entries), ['c', 'd']);
    });
  });
}
