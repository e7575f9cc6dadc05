import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { archiveKey, buildDeb, writeArchive } from '../helpers/debian.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 29: while the upstream is down, a remote serves its cached generation until the Valid-Until its Release names, then says so.
describe('Debian remote: the cached generation while the upstream is down, until its Valid-Until', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let br: TestServer;
  let clock = Date.now();

  before(async () => {
    work = await tempDir('deb-valid-');
    const key = await archiveKey(work.path);
    await writeArchive(join(work.path, 'up/debian'), 'stable', [await buildDeb(join(work.path, 'debs'), { name: 'a', version: '1' })], key, { byHash: true, validSeconds: 3600 });
    up = await startStaticNginx(join(work.path, 'up'), join(work.path, 'ngx'));
    br = await startServer({ now: () => clock, config: { repos: [{ name: 'deb', format: 'debian', type: 'remote', upstream: { url: `${up.url}/debian`, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 60 } }] } });
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  it('fresh, then STALE with the upstream stopped, then 503 naming the expiry once Valid-Until has passed', async () => {
    const first = await fetch(`${br.url}/repo/deb/dists/stable/InRelease`);
    assert.equal(first.status, 200);
    assert.match(await first.text(), /Valid-Until: /);
    await up.stop();
    clock += 30 * 60_000;
    const stale = await fetch(`${br.url}/repo/deb/dists/stable/InRelease`);
    assert.equal(stale.status, 200);
    assert.equal(stale.headers.get('x-cache'), 'STALE');
    await stale.body?.cancel();
    clock += 2 * 3600_000;
    const expired = await fetch(`${br.url}/repo/deb/dists/stable/InRelease`);
    assert.equal(expired.status, 503);
    assert.match(await expired.text(), /expired \(Valid-Until/);
  });
});
