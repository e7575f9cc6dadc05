import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type Usage = { usage: Array<{ repos: string[]; usageBefore: number }> };

// Issue 24, 8: the repository list showed stale cache usage ("0 B" for up to 300 s while the admin
// page showed 3.0 MB). The list, the API, the admin page and the metric now read one figure: the
// last scan plus what was cached since.
describe('one cache usage figure for every page', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  before(async () => {
    work = await tempDir('usage-');
    await mkdir(join(work.path, 'www'), { recursive: true });
    await writeFile(join(work.path, 'www', 'big.bin'), new Uint8Array(3_000_000).fill(9));
    ngx = await startStaticNginx(join(work.path, 'www'), work.path);
    br = await startServer({ config: { repos: [{ name: 'dl', format: 'generic', type: 'remote', upstream: { url: ngx.url } }] } });
  });
  after(() => closeAll(() => br?.close(), () => ngx?.stop(), () => work?.cleanup()));

  it('after a scan and a 3 MB download, the list shows what the admin usage shows', async () => {
    const scan = (await (await fetch(`${br.url}/api/v1/usage`)).json()) as Usage;
    assert.equal(scan.usage.find((u) => u.repos.length === 1 && u.repos[0] === 'dl')?.usageBefore, 0);
    await (await fetch(`${br.url}/repo/dl/big.bin`)).arrayBuffer();
    await br.server.fills.idle();
    const listed = (await (await fetch(`${br.url}/api/v1/repos/dl`)).json()) as { cacheBytes?: number };
    assert.equal(listed.cacheBytes, 3_000_000, 'the list counts the download at once');
    const again = (await (await fetch(`${br.url}/api/v1/usage`)).json()) as Usage;
    assert.equal(again.usage.find((u) => u.repos.length === 1 && u.repos[0] === 'dl')?.usageBefore, listed.cacheBytes);
    const page = await (await fetch(`${br.url}/ui/`)).text();
    assert.match(page, /3\.0 MB|3,000,000|2\.9 MiB/);
  });
});
