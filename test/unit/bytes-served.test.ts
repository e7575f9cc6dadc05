import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipStored } from '../helpers/gomod.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The value of binaryrepo_bytes_served_total for exactly these labels (0 when absent). */
async function served(url: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`binaryrepo_bytes_served_total{${labels}}`));
  return Number(line?.split(' ').pop() ?? 0);
}

// Issue 24, 5: only the Docker router counted bytes served, so /ui/stats showed "from upstream: 0 B"
// beside "fetched: 3.0 MB" for a generic download. Every format's files are counted where they are
// served, by repo, format and source.
describe('bytes served are counted for every format', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  const file = new Uint8Array(300_000).fill(3);
  before(async () => {
    work = await tempDir('served-');
    await mkdir(join(work.path, 'www'), { recursive: true });
    await writeFile(join(work.path, 'www', 'tool.bin'), file);
    ngx = await startStaticNginx(join(work.path, 'www'), work.path);
    br = await startServer({ config: { repos: [{ name: 'dl', format: 'generic', type: 'remote', upstream: { url: ngx.url } }, { name: 'gol', format: 'go', type: 'local' }] } });
  });
  after(() => closeAll(() => br?.close(), () => ngx?.stop(), () => work?.cleanup()));

  it('a generic remote: the cold download from upstream, the warm one from the cache', async () => {
    assert.equal((await (await fetch(`${br.url}/repo/dl/tool.bin`)).arrayBuffer()).byteLength, file.byteLength);
    await br.server.fills.idle();
    assert.equal(await served(br.url, 'format="generic",repo="dl",source="upstream"'), file.byteLength);
    await (await fetch(`${br.url}/repo/dl/tool.bin`)).arrayBuffer();
    assert.equal(await served(br.url, 'format="generic",repo="dl",source="cache"'), file.byteLength);
  });

  it('a Go local: its zip counted from the cache (hosted content)', async () => {
    const zip = zipStored([{ name: 'corp.example/m@v1.0.0/go.mod', data: new TextEncoder().encode('module corp.example/m\n') }]);
    assert.equal((await fetch(`${br.url}/repo/gol/corp.example/m/@v/v1.0.0.zip`, { method: 'PUT', body: zip })).status, 201);
    await (await fetch(`${br.url}/repo/gol/corp.example/m/@v/v1.0.0.zip`)).arrayBuffer();
    assert.equal(await served(br.url, 'format="go",repo="gol",source="cache"'), zip.byteLength);
  });
});
