import assert from 'node:assert/strict';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { zipStored } from '../helpers/gomod.ts';
import { tarGz } from '../helpers/helm.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const enc = new TextEncoder();

// Issue 23 (the kit) and 24 D: conditional GET in the one blob-serving path for every format:
// If-None-Match compared weakly as RFC 9110 says (Docker and Go ignored it before), If-Modified-Since
// (generic ignored it, so apt re-downloaded InRelease on every update), the upstream's own
// Last-Modified for cached files, and `immutable` per path pattern.
describe('conditional requests, every format', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let img: TestImage;
  let inReleaseMtime: Date;

  before(async () => {
    work = await tempDir('conditional-');
    const mirror = join(work.path, 'mirror');
    await mkdir(join(mirror, 'dists', 'stable'), { recursive: true });
    await mkdir(join(mirror, 'pool', 'main'), { recursive: true });
    await writeFile(join(mirror, 'dists', 'stable', 'InRelease'), 'Origin: test\n');
    await writeFile(join(mirror, 'pool', 'main', 'a_1.0_amd64.deb'), 'deb bytes');
    inReleaseMtime = (await stat(join(mirror, 'dists', 'stable', 'InRelease'))).mtime;
    ngx = await startStaticNginx(mirror, work.path);
    relay = await startRelay(ngx.url);
    br = await startServer({
      config: {
        repos: [
          { name: 'dl', format: 'docker', type: 'local' },
          { name: 'files', format: 'generic', type: 'local' },
          { name: 'gol', format: 'go', type: 'local' },
          { name: 'charts', format: 'helm', type: 'local' },
          { name: 'debian', format: 'generic', type: 'remote', upstream: { url: relay.url }, immutable: ['pool/**', 'dists/**/by-hash/**'], cache: { ttlSeconds: 0 } },
        ],
      },
    });
    img = await makeImage({ layerSizes: [1000] });
    await pushImage(`${br.url}/repo/dl`, 'app', '1', img);
    assert.equal((await fetch(`${br.url}/repo/files/a.txt`, { method: 'PUT', body: 'a' })).status, 201);
    const zip = zipStored([{ name: 'corp.example/m@v1.0.0/go.mod', data: enc.encode('module corp.example/m\n') }]);
    assert.equal((await fetch(`${br.url}/repo/gol/corp.example/m/@v/v1.0.0.zip`, { method: 'PUT', body: zip })).status, 201);
    const chart = await tarGz([{ name: 'c/Chart.yaml', data: 'apiVersion: v2\nname: c\nversion: 1.0.0\n' }]);
    assert.equal((await fetch(`${br.url}/repo/charts/api/charts`, { method: 'POST', body: chart })).status, 201);
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => work?.cleanup()));

  /** The ETag of a first GET, then the statuses of the same GET with it as strong and as weak. */
  async function revalidate(path: string): Promise<{ etag: string | null; strong: number; weak: number; other: number }> {
    const first = await fetch(`${br.url}${path}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    assert.ok(etag, `${path} has an ETag`);
    const again = async (h: string): Promise<number> => {
      const r = await fetch(`${br.url}${path}`, { headers: { 'if-none-match': h } });
      await r.arrayBuffer();
      return r.status;
    };
    return { etag, strong: await again(etag), weak: await again(`W/${etag}`), other: await again('"something-else"') };
  }

  for (const [what, path] of [
    ['Docker manifest', '/repo/dl/v2/app/manifests/1'],
    ['Docker blob', () => `/repo/dl/v2/app/blobs/${img.layers[0]?.digest ?? ''}`],
    ['Go zip', '/repo/gol/corp.example/m/@v/v1.0.0.zip'],
    ['Go mod', '/repo/gol/corp.example/m/@v/v1.0.0.mod'],
    ['generic file', '/repo/files/a.txt'],
    ['Helm index', '/repo/charts/index.yaml'],
    ['Helm chart', '/repo/charts/charts/c-1.0.0.tgz'],
  ] as const) {
    it(`${what}: If-None-Match, strong and weak, gives 304; another tag 200`, async () => {
      const r = await revalidate(typeof path === 'function' ? path() : path);
      assert.deepEqual([r.strong, r.weak, r.other], [304, 304, 200]);
    });
  }

  it('If-Modified-Since: 304 from Last-Modified on, 200 before it', async () => {
    const first = await fetch(`${br.url}/repo/files/a.txt`);
    await first.arrayBuffer();
    const lm = first.headers.get('last-modified') ?? '';
    const at = async (date: string): Promise<number> => {
      const r = await fetch(`${br.url}/repo/files/a.txt`, { headers: { 'if-modified-since': date } });
      await r.arrayBuffer();
      return r.status;
    };
    assert.equal(await at(lm), 304);
    assert.equal(await at(new Date(Date.parse(lm) + 3_600_000).toUTCString()), 304);
    assert.equal(await at(new Date(Date.parse(lm) - 3_600_000).toUTCString()), 200);
  });

  it('a Debian mirror through a generic remote: the upstream\'s Last-Modified, apt\'s If-Modified-Since answered 304, pool/ never revalidated', async () => {
    const rel = '/repo/debian/dists/stable/InRelease';
    const first = await fetch(`${br.url}${rel}`);
    assert.equal(await first.text(), 'Origin: test\n');
    assert.equal(first.headers.get('last-modified'), inReleaseMtime.toUTCString(), "the upstream's date, not our fetch time");
    const apt = await fetch(`${br.url}${rel}`, { headers: { 'if-modified-since': inReleaseMtime.toUTCString() } });
    await apt.arrayBuffer();
    assert.equal(apt.status, 304);
    // ttlSeconds 0: InRelease is asked upstream again each time; the pool file never after the first.
    const pool = '/repo/debian/pool/main/a_1.0_amd64.deb';
    for (let i = 0; i < 3; i++) assert.equal(await (await fetch(`${br.url}${pool}`)).text(), 'deb bytes');
    assert.equal(relay.count('GET', '/pool/main/a_1.0_amd64.deb'), 1);
    assert.ok(relay.count('GET', '/dists/stable/InRelease') + relay.count('HEAD', '/dists/stable/InRelease') >= 2, 'InRelease follows the TTL');
  });
});
