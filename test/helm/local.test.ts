import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { bytesOf, helm, packageChart, testKeyring } from '../helpers/helm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type Index = { apiVersion: string; entries: Record<string, Array<Record<string, unknown>>>; generated: string };

// Issue 12: a hosted chart repository with ChartMuseum's API, used by the real helm.
describe('Helm local repo (ChartMuseum API) with the real helm', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  let home: string;
  let keys: Awaited<ReturnType<typeof testKeyring>>;
  const charts: Record<string, string> = {};
  const url = (repo = 'charts'): string => `${br.url}/repo/${repo}`;
  const auth = { authorization: basic('writer') };

  before(async () => {
    work = await tempDir('helm-local-');
    home = join(work.path, 'home');
    keys = await testKeyring(work.path);
    const src = join(work.path, 'src');
    charts['alpha1'] = await packageChart(home, join(src, 'a1'), { name: 'alpha', version: '0.1.0' });
    charts['alpha2'] = await packageChart(home, join(src, 'a2'), { name: 'alpha', version: '0.2.0', description: '<script>alert(1)</script> “quoted” \\ back', annotations: { 'example.com/note': 'a: b # not a comment' } });
    charts['alpha10'] = await packageChart(home, join(src, 'a10'), { name: 'alpha', version: '0.10.0-rc.1' });
    charts['signed'] = await packageChart(home, join(src, 's'), { name: 'signed', version: '1.0.0' }, { key: keys.key, keyring: keys.secring });
    br = await startServer({
      dataDir: join(work.path, 'data'),
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'charts', format: 'helm', type: 'local', permissions: { read: ['anonymous'], write: ['writer'], delete: ['writer'] } },
          { name: 'charts-json', format: 'helm', type: 'local', indexFormat: 'json', permissions: { read: ['reader'], write: ['writer'] } },
        ],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => work?.cleanup()));

  async function index(repo = 'charts'): Promise<Index> {
    const r = await fetch(`${url(repo)}/index.yaml`, { headers: auth });
    assert.equal(r.status, 200);
    return parseYaml(await r.text()) as Index;
  }

  it('uploads: raw POST, multipart POST with provenance, PUT; a second upload of a version is 409', async () => {
    const raw = await fetch(`${url()}/api/charts`, { method: 'POST', headers: auth, body: await bytesOf(charts['alpha1'] as string) });
    assert.equal(raw.status, 201, await raw.clone().text());
    const form = new FormData();
    form.append('chart', new Blob([await bytesOf(charts['signed'] as string)]), 'signed-1.0.0.tgz');
    form.append('prov', new Blob([await bytesOf(`${charts['signed']}.prov`)]), 'signed-1.0.0.tgz.prov');
    const multi = await fetch(`${url()}/api/charts`, { method: 'POST', headers: auth, body: form });
    assert.equal(multi.status, 201, await multi.clone().text());
    const put = await fetch(`${url()}/charts/alpha-0.2.0.tgz`, { method: 'PUT', headers: auth, body: await bytesOf(charts['alpha2'] as string) });
    assert.equal(put.status, 201, await put.clone().text());
    const pre = await fetch(`${url()}/api/charts`, { method: 'POST', headers: auth, body: await bytesOf(charts['alpha10'] as string) });
    assert.equal(pre.status, 201);
    const again = await fetch(`${url()}/api/charts`, { method: 'POST', headers: auth, body: await bytesOf(charts['alpha1'] as string) });
    assert.equal(again.status, 409);
    assert.deepEqual(await again.json(), { error: 'alpha-0.1.0.tgz already exists' });
    const anon = await fetch(`${url()}/api/charts`, { method: 'POST', body: await bytesOf(charts['alpha1'] as string) });
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  it('index.yaml: ordered by name and SemVer precedence, digests and URLs set, attacker-controlled text preserved, ETag and 304', async () => {
    const idx = await index();
    assert.deepEqual(Object.keys(idx.entries), ['alpha', 'signed']);
    assert.deepEqual(idx.entries['alpha']?.map((e) => e['version']), ['0.10.0-rc.1', '0.2.0', '0.1.0']);
    const a2 = idx.entries['alpha']?.[1] ?? {};
    assert.equal(a2['description'], '<script>alert(1)</script> “quoted” \\ back');
    assert.deepEqual(a2['annotations'], { 'example.com/note': 'a: b # not a comment' });
    assert.deepEqual(a2['urls'], ['charts/alpha-0.2.0.tgz']);
    const { createHash } = await import('node:crypto');
    assert.equal(a2['digest'], createHash('sha256').update(await bytesOf(charts['alpha2'] as string)).digest('hex'));
    assert.equal(typeof a2['created'], 'string');
    const first = await fetch(`${url()}/index.yaml`);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    await first.body?.cancel();
    const cond = await fetch(`${url()}/index.yaml`, { headers: { 'if-none-match': etag } });
    assert.equal(cond.status, 304);
  });

  it('helm repo add / search --versions / pull --verify / template', async () => {
    const add = await helm(home, ['repo', 'add', 'local', url(), '--username', 'writer', '--password', PASSWORDS.writer]);
    assert.equal(add.code, 0, add.stderr);
    const search = await helm(home, ['search', 'repo', 'local/', '--versions', '--devel', '-o', 'json']);
    assert.equal(search.code, 0, search.stderr);
    const found = (JSON.parse(search.stdout) as Array<{ name: string; version: string }>).map((r) => `${r.name}@${r.version}`);
    assert.deepEqual(found.sort(), ['local/alpha@0.1.0', 'local/alpha@0.10.0-rc.1', 'local/alpha@0.2.0', 'local/signed@1.0.0']);
    const dest = join(work.path, 'pulled');
    await mkdir(dest, { recursive: true });
    const pull = await helm(home, ['pull', 'local/signed', '--verify', '--keyring', keys.pubring, '-d', dest]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.match(pull.stdout + pull.stderr, /Signed by: Chart Signer/);
    const t = await helm(home, ['template', 'rel', join(dest, 'signed-1.0.0.tgz')]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /kind: Deployment/);
    // A provenance file that does not match the archive fails helm's verification.
    const bad = await helm(home, ['pull', 'local/alpha', '--version', '0.1.0', '--verify', '--keyring', keys.pubring, '-d', dest]);
    assert.notEqual(bad.code, 0, 'no provenance file: --verify must fail');
  });

  it('the ChartMuseum API: list, chart, version, HEAD, DELETE', async () => {
    const all = (await (await fetch(`${url()}/api/charts`)).json()) as Record<string, unknown[]>;
    assert.deepEqual(Object.keys(all).sort(), ['alpha', 'signed']);
    const alpha = (await (await fetch(`${url()}/api/charts/alpha`)).json()) as Array<{ version: string }>;
    assert.deepEqual(alpha.map((e) => e.version), ['0.10.0-rc.1', '0.2.0', '0.1.0']);
    const one = (await (await fetch(`${url()}/api/charts/alpha/0.2.0`)).json()) as { name: string; version: string };
    assert.equal(`${one.name}@${one.version}`, 'alpha@0.2.0');
    assert.equal((await fetch(`${url()}/api/charts/alpha/9.9.9`, { method: 'HEAD' })).status, 404);
    assert.equal((await fetch(`${url()}/api/charts/alpha`, { method: 'HEAD' })).status, 200);
    const del = await fetch(`${url()}/api/charts/alpha/0.10.0-rc.1`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 200);
    assert.deepEqual((await index()).entries['alpha']?.map((e) => e['version']), ['0.2.0', '0.1.0']);
    assert.equal((await fetch(`${url()}/charts/alpha-0.10.0-rc.1.tgz`)).status, 404);
  });

  it('an index served as JSON (indexFormat: json) is read by helm; permissions apply', async () => {
    const up = await fetch(`${url('charts-json')}/api/charts`, { method: 'POST', headers: auth, body: await bytesOf(charts['alpha1'] as string) });
    assert.equal(up.status, 201);
    const r = await fetch(`${url('charts-json')}/index.yaml`, { headers: { authorization: basic('reader') } });
    assert.match(await r.text(), /^\{"apiVersion":"v1","entries":\{"alpha":\[/);
    assert.equal((await fetch(`${url('charts-json')}/index.yaml`)).status, 401);
    const add = await helm(home, ['repo', 'add', 'js', url('charts-json'), '--username', 'reader', '--password', PASSWORDS.reader]);
    assert.equal(add.code, 0, add.stderr);
    const search = await helm(home, ['search', 'repo', 'js/alpha', '-o', 'json']);
    assert.deepEqual((JSON.parse(search.stdout) as Array<{ name: string }>).map((x) => x.name), ['js/alpha']);
    const denied = await fetch(`${url('charts-json')}/api/charts/alpha/0.1.0`, { method: 'DELETE', headers: { authorization: basic('reader') } });
    assert.equal(denied.status, 403);
  });

  it('restart: the index is rebuilt from the stored chart documents', async () => {
    const before = await (await fetch(`${url()}/api/charts`)).json();
    const dataDir = br.dataDir;
    await br.close();
    br = await startServer({ dataDir, config: { auth: await authConfig(), repos: [{ name: 'charts', format: 'helm', type: 'local', permissions: { read: ['anonymous'], write: ['writer'] } }] } });
    assert.deepEqual(await (await fetch(`${url()}/api/charts`)).json(), before);
    const blobs = await readdir(join(dataDir, 'v1', 'blobs'), { recursive: true });
    assert.ok(blobs.length > 0);
  });
});
