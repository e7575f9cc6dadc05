import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml, stringify } from 'yaml';
import { bytesOf, helm, packageChart, writeChart } from '../helpers/helm.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type Index = { entries: Record<string, Array<{ version: string; urls: string[]; digest?: string }>> };

// Issue 12: a remote (cache of a classic chart repository served by nginx) and a virtual repo
// over it and a local one, with the real helm: search, pull, dependency update, outage.
describe('Helm remote and virtual repos with the real helm', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let homes = 0;
  const home = (): string => join(work.path, `home-${homes++}`);

  before(async () => {
    work = await tempDir('helm-remote-');
    const www = join(work.path, 'www');
    const up = join(www, 'up');
    const elsewhere = join(www, 'elsewhere');
    await mkdir(up, { recursive: true });
    await mkdir(elsewhere, { recursive: true });
    const h = home();
    const src = join(work.path, 'src');
    for (const [name, version] of [['beta', '1.0.0'], ['beta', '1.1.0'], ['gamma', '0.1.0'], ['delta', '1.0.0']] as const) {
      await copyFile(await packageChart(h, join(src, `${name}${version}`), { name, version }), join(up, `${name}-${version}.tgz`));
    }
    const idx = await helm(h, ['repo', 'index', up]);
    assert.equal(idx.code, 0, idx.stderr);
    ngx = await startStaticNginx(www, work.path);
    relay = await startRelay(ngx.url);
    // gamma lives on "another host" (an absolute URL); delta's archive is not the one the index describes.
    const index = parseYaml(await readFile(join(up, 'index.yaml'), 'utf8')) as Index;
    await copyFile(join(up, 'gamma-0.1.0.tgz'), join(elsewhere, 'gamma-0.1.0.tgz'));
    (index.entries['gamma'] ?? [])[0]!.urls = [`${relay.url}/elsewhere/gamma-0.1.0.tgz`];
    await copyFile(join(up, 'beta-1.0.0.tgz'), join(up, 'delta-1.0.0.tgz'));
    await writeFile(join(up, 'index.yaml'), stringify(index));
    br = await startServer({
      config: {
        repos: [
          { name: 'charts', format: 'helm', type: 'local' },
          { name: 'up', format: 'helm', type: 'remote', upstream: { url: `${relay.url}/up`, breakerFailures: 1000 }, cache: { indexTtlSeconds: 0 } },
          { name: 'helm', format: 'helm', type: 'virtual', members: ['charts', 'up'], deployTo: 'charts' },
          // An upstream nobody listens on, never cached: the virtual index still has the local charts.
          { name: 'dead', format: 'helm', type: 'remote', upstream: { url: 'http://127.0.0.1:9/charts', headersTimeoutSeconds: 2 } },
          { name: 'withdead', format: 'helm', type: 'virtual', members: ['dead', 'charts'] },
        ],
      },
    });
    const alpha = await packageChart(h, join(src, 'alpha'), { name: 'alpha', version: '0.1.0' });
    const r = await fetch(`${br.url}/repo/charts/api/charts`, { method: 'POST', body: await bytesOf(alpha) });
    assert.equal(r.status, 201);
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => work?.cleanup()));

  it('rewrites every chart URL (relative, absolute, other host) through the remote; helm searches and pulls', async () => {
    const text = await (await fetch(`${br.url}/repo/up/index.yaml`)).text();
    const index = parseYaml(text) as Index;
    assert.deepEqual(Object.keys(index.entries).sort(), ['beta', 'delta', 'gamma']);
    for (const [name, versions] of Object.entries(index.entries)) for (const v of versions) assert.deepEqual(v.urls, [`charts/${name}-${v.version}.tgz`]);
    assert.doesNotMatch(text, /127\.0\.0\.1/, 'no upstream address is left in the index');
    const h = home();
    assert.equal((await helm(h, ['repo', 'add', 'up', `${br.url}/repo/up`])).code, 0);
    const search = await helm(h, ['search', 'repo', 'up/beta', '--versions', '-o', 'json']);
    assert.deepEqual((JSON.parse(search.stdout) as Array<{ version: string }>).map((x) => x.version), ['1.1.0', '1.0.0']);
    const dest = join(work.path, 'pull-gamma');
    await mkdir(dest);
    const pull = await helm(h, ['pull', 'up/gamma', '-d', dest]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await bytesOf(join(dest, 'gamma-0.1.0.tgz')), await bytesOf(join(work.path, 'www', 'elsewhere', 'gamma-0.1.0.tgz')));
    assert.equal(relay.count('GET', '/elsewhere/gamma-0.1.0.tgz'), 1);
    const again = await fetch(`${br.url}/repo/up/charts/gamma-0.1.0.tgz`);
    assert.equal(again.headers.get('x-cache'), 'HIT');
    await again.body?.cancel();
    assert.equal(relay.count('GET', '/elsewhere/gamma-0.1.0.tgz'), 1);
  });

  it('8 concurrent helm pull of one uncached chart: one upstream GET', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const h = home();
        const dest = join(work.path, `pull-beta-${i}`);
        await mkdir(dest);
        await helm(h, ['repo', 'add', 'up', `${br.url}/repo/up`]);
        return helm(h, ['pull', 'up/beta', '--version', '1.0.0', '-d', dest]);
      }),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.equal(relay.count('GET', '/up/beta-1.0.0.tgz'), 1);
  });

  it('an archive that does not match the index digest is refused and not kept', async () => {
    const h = home();
    await helm(h, ['repo', 'add', 'up', `${br.url}/repo/up`]);
    const dest = join(work.path, 'pull-delta');
    await mkdir(dest);
    const pull = await helm(h, ['pull', 'up/delta', '-d', dest]);
    assert.notEqual(pull.code, 0, 'helm pull must fail');
    // Streamed while it is fetched: the mismatch shows at the end, so the body is cut, never completed.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${br.url}/repo/up/charts/delta-1.0.0.tgz`);
      await assert.rejects(r.arrayBuffer(), 'the body must not complete');
    }
    assert.ok(relay.count('GET', '/up/delta-1.0.0.tgz') >= 3, 'asked again each time: nothing was kept');
    const kept = await readdir(join(br.dataDir, 'v1', 'repos', 'up', 'helm'), { recursive: true });
    assert.ok(!kept.some((f) => f.includes('delta')), 'no document for delta');
  });

  it('index revalidated with ETag (304 upstream); with the upstream stopped: stale index, cached charts still pull', async () => {
    const first = await fetch(`${br.url}/repo/up/index.yaml`);
    assert.equal(first.headers.get('x-cache'), 'REVALIDATED');
    await first.body?.cancel();
    await ngx.stop();
    try {
      const stale = await fetch(`${br.url}/repo/up/index.yaml`);
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get('x-cache'), 'STALE');
      await stale.body?.cancel();
      const h = home();
      assert.equal((await helm(h, ['repo', 'add', 'up', `${br.url}/repo/up`])).code, 0);
      const dest = join(work.path, 'pull-offline');
      await mkdir(dest);
      const cached = await helm(h, ['pull', 'up/beta', '--version', '1.0.0', '-d', dest]);
      assert.equal(cached.code, 0, cached.stderr);
      const uncached = await fetch(`${br.url}/repo/up/charts/beta-1.1.0.tgz`);
      assert.ok(uncached.status === 502 || uncached.status === 503, `uncached while the upstream is down: ${uncached.status}`);
    } finally {
      await ngx.restart();
    }
  });

  it('virtual: a member whose upstream is unreachable (nothing cached) does not take the index down', async () => {
    assert.equal((await fetch(`${br.url}/repo/dead/index.yaml`)).status, 503);
    const r = await fetch(`${br.url}/repo/withdead/index.yaml`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys((parseYaml(await r.text()) as Index).entries), ['alpha']);
  });

  it('virtual: merged index, helm dependency update from it, uploads go to deployTo', async () => {
    const index = parseYaml(await (await fetch(`${br.url}/repo/helm/index.yaml`)).text()) as Index;
    assert.deepEqual(Object.keys(index.entries).sort(), ['alpha', 'beta', 'delta', 'gamma']);
    const h = home();
    const appDir = await writeChart(h, join(work.path, 'app'), {
      name: 'app',
      version: '1.0.0',
      dependencies: [
        { name: 'alpha', version: '0.1.0', repository: `${br.url}/repo/helm` },
        { name: 'beta', version: '~1.0.0', repository: `${br.url}/repo/helm` },
      ],
    });
    const dep = await helm(h, ['dependency', 'update', appDir]);
    assert.equal(dep.code, 0, dep.stderr);
    assert.deepEqual((await readdir(join(appDir, 'charts'))).sort(), ['alpha-0.1.0.tgz', 'beta-1.0.0.tgz']);
    const pkg = await helm(h, ['package', appDir, '-d', join(work.path, 'app')]);
    assert.equal(pkg.code, 0, pkg.stderr);
    const app = join(work.path, 'app', 'app-1.0.0.tgz');
    const up = await fetch(`${br.url}/repo/helm/api/charts`, { method: 'POST', body: await bytesOf(app) });
    assert.equal(up.status, 201, await up.clone().text());
    const local = (await (await fetch(`${br.url}/repo/charts/api/charts`)).json()) as Record<string, unknown>;
    assert.ok('app' in local, 'the upload went to the local repo');
    const merged = parseYaml(await (await fetch(`${br.url}/repo/helm/index.yaml`)).text()) as Index;
    assert.deepEqual(merged.entries['app']?.map((e) => e.version), ['1.0.0']);
  });
});
