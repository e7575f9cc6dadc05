import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goEnv, zipStored } from '../helpers/gomod.ts';
import { helm, packageChart } from '../helpers/helm.ts';
import { makeImage, makeIndex, pushImage, pushManifest, sha256 } from '../helpers/images.ts';
import { fmtBytes } from '../../src/util/bytes.ts';
import { freePort, run } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { writeSumdb } from '../helpers/sumdb.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const enc = new TextEncoder();
const MOD = 'corp.example/lib';

/** The copy commands of a UI page (their data-copy attributes, entities decoded). */
async function commands(url: string): Promise<string[]> {
  const html = await (await fetch(url)).text();
  return [...html.matchAll(/data-copy="([^"]*)"/g)].map((m) => (m[1] ?? '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

// Issue 24, 3, 4 and 6: the UI's copy lines must work as shown. An OCI Helm chart was offered
// podman/docker pull lines (which refuse it), the Go page's go get line for a hosted module failed
// verification (no GONOSUMDB), and a manifest pushed without a mediaType field showed an empty type.
describe('copy commands that work as shown', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  before(async () => {
    work = await tempDir('ui-commands-');
    br = await startServer({ config: { repos: [{ name: 'dl', format: 'docker', type: 'local' }, { name: 'gol', format: 'go', type: 'local' }] } });
  });
  after(() => closeAll(() => br?.close(), () => work?.cleanup()));

  it('an OCI Helm chart: a helm pull line (no podman or docker), which helm runs; its media type shown', async () => {
    const home = join(work.path, 'helm');
    await mkdir(home, { recursive: true });
    const chart = await packageChart(home, join(work.path, 'src'), { name: 'web', version: '0.3.1' });
    const host = br.url.replace('http://', '');
    const push = await helm(home, ['push', chart, `oci://${host}/dl/charts`, '--plain-http']);
    assert.equal(push.code, 0, push.stderr);
    const page = `${br.url}/ui/repo/dl?path=${encodeURIComponent('charts/web:0.3.1')}`;
    const lines = await commands(page);
    const pull = lines.find((l) => l.startsWith('helm pull '));
    assert.equal(pull, `helm pull oci://${host}/dl/charts/web --version 0.3.1 --plain-http`);
    assert.ok(!lines.some((l) => /^(podman|docker) pull/.test(l)), lines.join('\n'));
    const args = (pull ?? '').split(' ').slice(1);
    const dest = join(work.path, 'pulled');
    await mkdir(dest, { recursive: true });
    const r = await helm(home, [...args, '-d', dest]);
    assert.equal(r.code, 0, r.stderr);
    const html = await (await fetch(page)).text();
    assert.match(html, /media type<\/th><td>application\/vnd\.oci\.image\.manifest\.v1\+json/);
  });

  it('a hosted Go module: the go get line carries GONOSUMDB, and the go command succeeds with it as shown', async () => {
    const zip = zipStored([{ name: `${MOD}@v1.0.0/go.mod`, data: enc.encode(`module ${MOD}\n\ngo 1.21\n`) }, { name: `${MOD}@v1.0.0/lib.go`, data: enc.encode('package lib\n') }]);
    assert.equal((await fetch(`${br.url}/repo/gol/${MOD}/@v/v1.0.0.zip`, { method: 'PUT', body: zip })).status, 201);
    const line = (await commands(`${br.url}/ui/repo/gol?path=${encodeURIComponent(`${MOD}@v1.0.0`)}`)).find((l) => l.includes(' go get '));
    assert.equal(line, `GOPROXY=${br.url}/repo/gol GONOSUMDB=${MOD} go get ${MOD}@v1.0.0`);
    // A checksum database the go command would have to ask (at a closed loopback port, so
    // nothing leaves the machine): without GONOSUMDB the go get fails, with the line's env it works.
    const db = await writeSumdb(join(work.path, 'sumdb'), 'sum.test.example', [], 20);
    const gosumdb = `${db.key} http://127.0.0.1:${await freePort()}`;
    const env = Object.fromEntries((line ?? '').split(' go get ')[0]?.split(' ').map((kv) => kv.split('=') as [string, string]) ?? []);
    const app = join(work.path, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'go.mod'), 'module example.com/app\n\ngo 1.21\n');
    const base = goEnv(join(work.path, 'gohome'), join(work.path, 'gocache'), { GOSUMDB: gosumdb, GOPROXY: env['GOPROXY'] ?? '' });
    const without = await run('go', ['get', `${MOD}@v1.0.0`], { cwd: app, env: base, timeoutMs: 120_000 });
    assert.notEqual(without.code, 0, 'verification is attempted without GONOSUMDB');
    const withIt = await run('go', ['get', `${MOD}@v1.0.0`], { cwd: app, env: { ...base, ...env, GOMODCACHE: join(work.path, 'modcache2') }, timeoutMs: 120_000 });
    assert.equal(withIt.code, 0, withIt.stderr);
  });
});

// Issue 24, 7 (in part): sizes people read and the image config's key facts on a manifest page.
describe('the manifest page: image size and config facts', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'dl', format: 'docker', type: 'local' }] } });
    await pushImage(`${br.url}/repo/dl`, 'team/web', '1.0', await makeImage({ layerSizes: [3_000_000, 2_000] }));
  });
  after(() => br?.close());

  it('shows the image size in human units, and the platform and cmd from its config', async () => {
    const html = await (await fetch(`${br.url}/ui/repo/dl?path=${encodeURIComponent('team/web:1.0')}`)).text();
    assert.match(html, /<th>image size<\/th><td>3\.0 MB \(config and layers, compressed\)/);
    assert.match(html, /<th>layers<\/th><td>2 \(3\.0 MB\)/);
    assert.match(html, /<th>platform<\/th><td>linux\/amd64/);
    assert.match(html, /<th>cmd<\/th><td>(&quot;|&#34;)\/bin\/true(&quot;|&#34;)/);
  });

  // Issue 24, 7 (the rest): an index's page gave only each platform manifest's own size.
  it('an index page shows each platform\'s image size and the total with shared layers once', async () => {
    const amd = await makeImage({ layerSizes: [2_000_000, 1_000], arch: 'amd64' });
    const arm = await makeImage({ layerSizes: [1_000_000], arch: 'arm64' });
    await pushImage(`${br.url}/repo/dl`, 'team/multi', 'amd', amd);
    await pushImage(`${br.url}/repo/dl`, 'team/multi', 'arm', arm);
    // The same arm64 manifest listed twice (as a variant): its layers count once in the total.
    const base = makeIndex([{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
    const doc = JSON.parse(new TextDecoder().decode(base.bytes)) as { manifests: Array<Record<string, unknown>> };
    doc.manifests.push({ ...doc.manifests[1], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    // A platform whose manifest is then deleted: not in the store, as in a remote that pulled one platform only.
    const s390 = await makeImage({ layerSizes: [500], arch: 's390x' });
    await pushImage(`${br.url}/repo/dl`, 'team/multi', 's390x', s390);
    doc.manifests.push({ mediaType: s390.manifest.mediaType, size: s390.manifest.bytes.byteLength, digest: s390.manifest.digest, platform: { os: 'linux', architecture: 's390x' } });
    const bytes = new TextEncoder().encode(JSON.stringify(doc));
    await pushManifest(`${br.url}/repo/dl`, 'team/multi', '1.0', { digest: sha256(bytes), bytes, mediaType: base.mediaType });
    assert.equal((await fetch(`${br.url}/repo/dl/v2/team/multi/manifests/${s390.manifest.digest}`, { method: 'DELETE' })).status, 202);
    const size = (img: typeof amd): number => [img.config, ...img.layers].reduce((n, b) => n + b.bytes.byteLength, 0);
    const html = await (await fetch(`${br.url}/ui/repo/dl?path=${encodeURIComponent('team/multi:1.0')}`)).text();
    const rows = [...html.matchAll(/<tr><td>(linux\/[a-z0-9/]+)<\/td><td>.*?<\/td><td>([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, [['linux/amd64', fmtBytes(size(amd))], ['linux/arm64', fmtBytes(size(arm))], ['linux/arm64/v8', fmtBytes(size(arm))], ['linux/s390x', 'not cached']], html);
    assert.match(html, new RegExp(`<th>total size</th><td>${fmtBytes(size(amd) + size(arm)).replace('.', '\\.')} \\(every platform, shared layers once; 1 platform not cached\\)`));
  });

  it('the tags page says when each tag was pushed', async () => {
    const html = await (await fetch(`${br.url}/ui/repo/dl?path=${encodeURIComponent('team/web')}`)).text();
    assert.match(html, /<th>pushed or fetched<\/th>/);
    assert.match(html, /<td>20\d\d-\d\d-\d\d \d\d:\d\d<\/td>/);
  });
});

// Issue 24, 7 (in part): a virtual repo's page showed only its member list; its copy lines named
// the member, not the URL its users have.
describe('a virtual repo\'s pages: merged content, commands naming the virtual repo', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({
      config: {
        defaultRepo: 'docker',
        repos: [
          { name: 'team', format: 'docker', type: 'local' },
          { name: 'more', format: 'docker', type: 'local' },
          { name: 'docker', format: 'docker', type: 'virtual', members: ['team', 'more'] },
        ],
      },
    });
    await pushImage(`${br.url}/repo/team`, 'apps/web', '1.0', await makeImage({ layerSizes: [500] }));
    await pushImage(`${br.url}/repo/more`, 'apps/api', '2.0', await makeImage({ layerSizes: [600] }));
  });
  after(() => br?.close());

  it('lists both members\' images, and a manifest page pulls through the virtual name', async () => {
    const top = await (await fetch(`${br.url}/ui/repo/docker`)).text();
    assert.match(top, /apps\/web/);
    assert.match(top, /apps\/api/);
    const lines = await commands(`${br.url}/ui/repo/docker?path=${encodeURIComponent('apps/api:2.0')}`);
    const host = br.url.replace('http://', '');
    // `docker` is the default repo: its images are pulled from the host root.
    assert.ok(lines.includes(`podman pull --tls-verify=false ${host}/apps/api:2.0`), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes(`/repo/docker/v2/apps/api/manifests/2.0`)), lines.join('\n'));
    // A member's own page offers the URL users have too, not the member's.
    const member = await commands(`${br.url}/ui/repo/more?path=${encodeURIComponent('apps/api:2.0')}`);
    assert.ok(member.includes(`podman pull --tls-verify=false ${host}/apps/api:2.0`), member.join('\n'));
    const pulled = await fetch(`${br.url}/v2/apps/api/manifests/2.0`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(pulled.status, 200, 'the root URL answers');
    const res = await fetch(`${br.url}/repo/docker/v2/apps/api/manifests/2.0`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(res.status, 200, 'the shown URL answers');
  });
});
