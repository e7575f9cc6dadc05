import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crateFile, publishFrame } from '../helpers/cargo.ts';
import { buildDeb } from '../helpers/debian.ts';
import { zipStored } from '../helpers/gomod.ts';
import { tarGz } from '../helpers/helm.ts';
import { publishDoc } from '../helpers/npm.ts';
import { makeDists, twineUpload } from '../helpers/pypi.ts';
import { tempDir } from '../helpers/tmp.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const enc = new TextEncoder();
const MOD = 'example.com/Corp/lib';
const zip = (v: string): Uint8Array =>
  zipStored(Object.entries({ 'go.mod': `module ${MOD}\n`, 'lib.go': 'package lib\n' }).map(([name, data]) => ({ name: `${MOD}@${v}/${name}`, data: enc.encode(data) })));

/** The text of <main>, tags stripped and entities decoded (what a reader of the page sees). */
async function mainText(url: string): Promise<{ status: number; text: string; html: string }> {
  const r = await fetch(url);
  const html = await r.text();
  const main = html.slice(html.indexOf('<main>'), html.indexOf('</main>'));
  const text = main.replace(/<[^>]*>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
  return { status: r.status, text, html: main };
}

// The formats' browse() views as the UI renders them: Go modules and Helm charts (issue 14).
describe('web UI listings of Go modules and Helm charts', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [{ name: 'gomods', format: 'go', type: 'local' }, { name: 'charts', format: 'helm', type: 'local' }] } });
    for (const v of ['v1.0.0', 'v1.2.0']) {
      const r = await fetch(`${srv.url}/repo/gomods/example.com/!corp/lib/@v/${v}.zip`, { method: 'PUT', body: zip(v) });
      assert.equal(r.status, 201, await r.text());
    }
    const chart = await tarGz([{ name: 'web/Chart.yaml', data: 'apiVersion: v2\nname: web\nversion: 0.3.1\nappVersion: "2.0"\ndescription: "<b>bold</b> & <script>x()</script>"\n' }]);
    const up = await fetch(`${srv.url}/repo/charts/api/charts`, { method: 'POST', body: chart });
    assert.equal(up.status, 201, await up.text());
  });
  after(() => srv?.close());

  it('Go: modules, versions newest first, a version with its files and go get line', async () => {
    const top = await mainText(`${srv.url}/ui/repo/gomods`);
    assert.equal(top.status, 200);
    assert.ok(top.text.includes(MOD), top.text);
    const mod = await mainText(`${srv.url}/ui/repo/gomods?path=${encodeURIComponent(MOD)}`);
    assert.ok(mod.text.indexOf('v1.2.0') < mod.text.lastIndexOf('v1.0.0'), 'newest first');
    const v = await mainText(`${srv.url}/ui/repo/gomods?path=${encodeURIComponent(`${MOD}@v1.0.0`)}`);
    assert.match(v.text, /\.zip \d+ bytes, sha256:[0-9a-f]{64}/);
    assert.ok(v.text.includes(`GOPROXY=${srv.url}/repo/gomods GONOSUMDB=${MOD} go get ${MOD}@v1.0.0`));
    assert.ok(v.text.includes(`${srv.url}/repo/gomods/example.com/!corp/lib/@v/v1.0.0.zip`), 'the URL is case-escaped');
    assert.equal((await mainText(`${srv.url}/ui/repo/gomods?path=${encodeURIComponent(`${MOD}@v9.9.9`)}`)).status, 404);
  });

  it('Helm: charts, versions and one version with helm lines; its description is escaped', async () => {
    const top = await mainText(`${srv.url}/ui/repo/charts`);
    assert.match(top.text, /web 1 versions, newest 0\.3\.1/);
    assert.ok(top.text.includes(`helm repo add charts ${srv.url}/repo/charts`));
    const v = await mainText(`${srv.url}/ui/repo/charts?path=${encodeURIComponent('web@0.3.1')}`);
    assert.ok(v.text.includes('helm install web charts/web --version 0.3.1'));
    assert.ok(v.text.includes('<b>bold</b> & <script>x()</script>'), 'shown as text');
    assert.ok(!v.html.includes('<script>'), 'never as markup');
    assert.ok(v.html.includes('&lt;script&gt;'));
  });

  it('search finds names in every format', async () => {
    const s = await mainText(`${srv.url}/ui/search?q=LIB`);
    assert.ok(s.text.includes(MOD));
    const w = await mainText(`${srv.url}/ui/search?q=we`);
    assert.match(w.text, /charts web/);
  });
});

describe('web UI: referrers on the manifest page, cache charts, admin jobs over the API', () => {
  let srv: TestServer;
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
    await pushImage(reg.url, 'library/base', '1', await makeImage({ layerSizes: [5000] }));
    srv = await startServer({ config: { repos: [{ name: 'apps', format: 'docker', type: 'local' }, remoteRepo('hub', reg.url)] } });
  });
  after(async () => {
    await srv?.close();
    await reg?.stop();
  });

  it('a signature pushed with a subject is listed under the manifest it signs', async () => {
    const img = await makeImage({ layerSizes: [1000], oci: true });
    await pushImage(`${srv.url}/repo/apps`, 'web', '1', img);
    const sig = await makeImage({ layerSizes: [10], oci: true, subject: img.manifest, annotations: { 'org.example.signer': 'ci <ci@example.com>' } });
    await pushImage(`${srv.url}/repo/apps`, 'web', 'sig', sig);
    const page = await mainText(`${srv.url}/ui/repo/apps?path=${encodeURIComponent('web:1')}`);
    assert.match(page.text, /Referrers \(signatures, SBOMs, attestations\)/);
    assert.ok(page.text.includes(sig.manifest.digest), 'the referrer is listed');
    assert.ok(page.text.includes('org.example.signer=ci <ci@example.com>'));
    assert.ok(page.html.includes(`href="/ui/repo/apps?path=web%40${encodeURIComponent(sig.manifest.digest)}"`), 'and linked');
  });

  it('the stats page draws the counters; without auth everyone may run jobs over the API', async () => {
    // A cold pull (3 misses: manifest, config, layer), then a warm one (3 hits).
    for (let i = 0; i < 2; i++) {
      await pullImage(`${srv.url}/repo/hub`, 'library/base', '1');
      await srv.server.fills.idle();
    }
    const stats = await mainText(`${srv.url}/ui/stats`);
    assert.equal(stats.status, 200);
    assert.match(stats.html, /<polyline fill="none" stroke="#2a7"/);
    // Issue 24, 7: the charts have a time axis.
    assert.match(stats.html, /<text class="tick"[^>]*>\d\d:\d\d UTC<\/text>/);
    assert.match(stats.text, /saved \(hits, joined downloads, stale\): 3 in all misses: 3 in all/);
    assert.match(stats.text, /from cache: [\d.]+ KB in all/);
    const samples = ((await (await fetch(`${srv.url}/api/v1/stats`)).json()) as { samples: Array<{ t: number }> }).samples;
    assert.ok(samples.length >= 1);
    for (const job of ['evict', 'retention', 'gc']) {
      const r = await fetch(`${srv.url}/api/v1/${job}?dryRun=true`, { method: 'POST' });
      assert.equal(r.status, 200, job);
      assert.equal(((await r.json()) as { dryRun: boolean }).dryRun, true);
    }
  });
});

// Issue 25: npm packages in the UI, from the stored documents; their readme and description as text.
describe('web UI listings of npm packages', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [{ name: 'npm-corp', format: 'npm', type: 'local' }] } });
    for (const v of ['1.0.0', '1.10.0', '1.2.0']) {
      const readme = `# corp tool ${v}\n\nRun \`corp-tool --fast\`.\n\n[home](https://corp.example/tool) [bad](javascript:alert(1))\n\n<script>alert(1)</script>\n`;
      const body = publishDoc('@corp/tool', v, enc.encode(`tarball ${v}`), { manifest: { description: '<img src=x onerror=alert(1)>', dependencies: { 'left-pad': '^1.3.0' }, readme } });
      const r = await fetch(`${srv.url}/repo/npm-corp/@corp%2ftool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body });
      assert.equal(r.status, 201, await r.text());
    }
  });
  after(() => srv?.close());

  it('packages, versions in SemVer order, one version with its npm lines; markup is text; search finds it', async () => {
    const top = await mainText(`${srv.url}/ui/repo/npm-corp`);
    assert.ok(top.text.includes('@corp/tool'), top.text);
    assert.ok(top.text.includes(`npm config set registry ${srv.url}/repo/npm-corp/`));
    const pkg = await mainText(`${srv.url}/ui/repo/npm-corp?path=${encodeURIComponent('@corp/tool')}`);
    const at = (v: string): number => pkg.text.indexOf(` ${v} `);
    assert.ok(at('1.10.0') >= 0 && at('1.10.0') < at('1.2.0') && at('1.2.0') < at('1.0.0'), `newest first by SemVer: ${pkg.text}`);
    assert.match(pkg.text, /latest 1\.2\.0/);
    // The readme rendered from Markdown (the last publish's), and nothing active in it.
    assert.match(pkg.html, /<h2>Readme<\/h2><div class="readme"><h3>corp tool 1\.2\.0<\/h3><p>Run <code>corp-tool --fast<\/code>\.<\/p><p><a href="https:\/\/corp\.example\/tool" rel="nofollow noopener noreferrer">home<\/a> bad\)<\/p>/);
    assert.doesNotMatch(pkg.html, /<script>alert|javascript:/);
    const v = await mainText(`${srv.url}/ui/repo/npm-corp?path=${encodeURIComponent('@corp/tool@1.10.0')}`);
    assert.ok(v.text.includes(`npm install @corp/tool@1.10.0 --registry ${srv.url}/repo/npm-corp/`), v.text);
    assert.ok(v.text.includes(`${srv.url}/repo/npm-corp/@corp/tool/-/tool-1.10.0.tgz`));
    assert.ok(v.text.includes('left-pad ^1.3.0'));
    assert.ok(v.text.includes('<img src=x onerror=alert(1)>'), 'shown as text');
    assert.ok(!v.html.includes('<img'), 'never as markup');
    assert.equal((await mainText(`${srv.url}/ui/repo/npm-corp?path=${encodeURIComponent('@corp/tool@9.9.9')}`)).status, 404);
    const s = await mainText(`${srv.url}/ui/search?q=TOOL`);
    assert.match(s.text, /npm-corp @corp\/tool/);
  });
});

// Issue 26: Python projects in the UI, from the stored file lists.
describe('web UI listings of Python projects', () => {
  let srv: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    work = await tempDir('ui-pypi-');
    srv = await startServer({ config: { repos: [{ name: 'pycorp', format: 'pypi', type: 'local' }] } });
    for (const v of ['1.0', '1.10', '1.2']) {
      const d = await makeDists(join(work.path, v), { name: 'Corp_Lib', version: v });
      const r = await twineUpload([d.wheel], `${srv.url}/repo/pycorp/`, join(work.path, 'home'));
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await srv?.close();
    await work?.cleanup();
  });

  it('projects, versions in PEP 440 order, one version with its files and pip/uv lines; search finds it', async () => {
    const top = await mainText(`${srv.url}/ui/repo/pycorp`);
    assert.ok(top.text.includes('corp-lib'), top.text);
    const p = await mainText(`${srv.url}/ui/repo/pycorp?path=corp-lib`);
    const at = (v: string): number => p.text.indexOf(` ${v} `);
    assert.ok(at('1.10') >= 0 && at('1.10') < at('1.2') && at('1.2') < at('1.0'), p.text);
    const v = await mainText(`${srv.url}/ui/repo/pycorp?path=${encodeURIComponent('corp-lib==1.10')}`);
    assert.ok(v.text.includes(`pip install corp-lib==1.10 --index-url ${srv.url}/repo/pycorp/simple/`), v.text);
    assert.match(v.text, /Corp_Lib-1\.10-py3-none-any\.whl \d+ [0-9a-f]{64}/);
    assert.equal((await mainText(`${srv.url}/ui/repo/pycorp?path=${encodeURIComponent('corp-lib==9')}`)).status, 404);
    assert.match((await mainText(`${srv.url}/ui/search?q=CORP-L`)).text, /pycorp corp-lib/);
  });
});

// Issue 27: the Maven listing: groups → artifacts → versions (newest first, Maven's order) → files, with the snippet.
describe('web UI listing of a Maven repo', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [{ name: 'm2', format: 'maven', type: 'local' }, { name: 'm2v', format: 'maven', type: 'virtual', members: ['m2'] }] } });
    for (const v of ['1.9', '1.10', '1.2']) {
      for (const ext of ['pom', 'jar']) assert.equal((await fetch(`${srv.url}/repo/m2/org/corp/lib/${v}/lib-${v}.${ext}`, { method: 'PUT', body: `${v} ${ext}` })).status, 201);
    }
  });
  after(() => srv?.close());

  it('folders down to a version with its <dependency> snippet, a file with its checksums; the virtual shows its member\'s files', async () => {
    assert.ok((await mainText(`${srv.url}/ui/repo/m2`)).text.includes('org'));
    const a = await mainText(`${srv.url}/ui/repo/m2?path=org/corp/lib`);
    const at = (v: string): number => a.text.indexOf(` ${v} `);
    assert.ok(at('1.10') >= 0 && at('1.10') < at('1.9') && at('1.9') < at('1.2'), a.text);
    const v = await mainText(`${srv.url}/ui/repo/m2?path=${encodeURIComponent('org/corp/lib/1.10')}`);
    assert.ok(v.text.includes('<groupId>org.corp</groupId>') && v.text.includes('<version>1.10</version>'), v.text);
    assert.ok(v.text.includes('lib-1.10.jar'), v.text);
    const f = await mainText(`${srv.url}/ui/repo/m2?path=${encodeURIComponent('org/corp/lib/1.10/lib-1.10.jar')}`);
    assert.ok(f.text.includes(createHash('sha1').update('1.10 jar').digest('hex')), f.text);
    assert.ok((await mainText(`${srv.url}/ui/repo/m2v?path=${encodeURIComponent('org/corp/lib/1.2')}`)).text.includes('lib-1.2.pom'));
    assert.equal((await mainText(`${srv.url}/ui/repo/m2?path=org/nothing`)).status, 404);
  });
});

// Issue 28: the Cargo listing: crates → versions (newest first, yanked marked) → one version with its dependencies and the cargo add line.
describe('web UI listing of a Cargo repo', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startServer({ config: { repos: [{ name: 'corp', format: 'cargo', type: 'local' }, { name: 'cargo', format: 'cargo', type: 'virtual', members: ['corp'] }] } });
    for (const vers of ['0.9.0', '0.10.0', '0.2.0']) {
      const spec = { name: 'Corp_Util', vers, deps: [{ name: 'la', package: 'leaf-a', req: '^1' }] };
      const body = publishFrame({ name: spec.name, vers, deps: [{ name: 'leaf-a', explicit_name_in_toml: 'la', version_req: '^1' }] }, await crateFile(spec));
      assert.equal((await fetch(`${srv.url}/repo/corp/api/v1/crates/new`, { method: 'PUT', body })).status, 200);
    }
    assert.equal((await fetch(`${srv.url}/repo/corp/api/v1/crates/Corp_Util/0.9.0/yank`, { method: 'DELETE' })).status, 200);
  });
  after(() => srv?.close());

  it('crates, versions newest first with yanked marked, a version with its renamed dependency and the cargo add line', async () => {
    assert.ok((await mainText(`${srv.url}/ui/repo/corp`)).text.includes('corp_util'));
    const c = await mainText(`${srv.url}/ui/repo/corp?path=corp_util`);
    const at = (v: string): number => c.text.indexOf(` ${v} `);
    assert.ok(at('0.10.0') >= 0 && at('0.10.0') < at('0.9.0') && at('0.9.0') < at('0.2.0'), c.text);
    assert.match(c.text, /0\.9\.0 [\d-]+ [\d:]+ yanked 0\.2\.0/);
    const v = await mainText(`${srv.url}/ui/repo/cargo?path=${encodeURIComponent('corp_util@0.10.0')}`);
    assert.ok(v.text.includes('cargo add Corp_Util@=0.10.0 --registry cargo'), v.text);
    assert.match(v.text, /la \^1, package leaf-a/);
    assert.equal((await mainText(`${srv.url}/ui/repo/corp?path=nothing`)).status, 404);
  });
});

// Issue 29: the Debian listing: suites → packages (with the sources.list line and key) → versions by architecture, newest first.
describe('web UI listing of a Debian repo', () => {
  let srv: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    work = await tempDir('ui-deb-');
    srv = await startServer({ config: { repos: [{ name: 'debs', format: 'debian', type: 'local', architectures: ['amd64'] }] } });
    for (const version of ['1.9-1', '1.10-1', '1.2']) {
      const deb = await readFile(await buildDeb(work.path, { name: 'corp-tool', version, extra: 'Homepage: https://<b>x</b>' }));
      assert.equal((await fetch(`${srv.url}/repo/debs/upload/stable/main`, { method: 'PUT', body: deb })).status, 201);
    }
  });
  after(async () => {
    await srv?.close();
    await work?.cleanup();
  });

  it('suites, a suite with its sources.list line and key, a package with versions newest first', async () => {
    assert.ok((await mainText(`${srv.url}/ui/repo/debs`)).text.includes('stable'));
    const s = await mainText(`${srv.url}/ui/repo/debs?path=stable`);
    assert.ok(s.text.includes('corp-tool'), s.text);
    assert.ok(s.text.includes(`signed-by=/etc/apt/keyrings/debs.asc] ${srv.url}/repo/debs stable main`), s.text);
    const p = await mainText(`${srv.url}/ui/repo/debs?path=${encodeURIComponent('stable/corp-tool')}`);
    const at = (v: string): number => p.text.indexOf(` ${v} `);
    assert.ok(at('1.10-1') >= 0 && at('1.10-1') < at('1.9-1') && at('1.9-1') < at('1.2'), p.text);
    assert.ok(p.text.includes('pool/main/c/corp-tool/corp-tool_1.10-1_amd64.deb'), p.text);
    assert.equal((await mainText(`${srv.url}/ui/repo/debs?path=${encodeURIComponent('stable/nothing')}`)).status, 404);
    assert.equal((await mainText(`${srv.url}/ui/repo/debs?path=oldstable`)).status, 404);
  });
});
