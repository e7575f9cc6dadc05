import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/net.ts';
import { makeDists, py, startPypiserver, twineUpload } from '../helpers/pypi.ts';
import type { Pypiserver } from '../helpers/pypi.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type JsonPage = { meta: Record<string, unknown>; name: string; versions: string[]; files: Array<{ filename: string; url: string; hashes: { sha256?: string }; 'requires-python'?: string; 'core-metadata': false | true | { sha256: string } }> };
const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.1, text/html;q=0.01';

// Issue 26: a PyPI remote over a real pypiserver, with the real pip and uv.
describe('PyPI remote over pypiserver, with pip and uv', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Pypiserver;
  let relay: Relay;
  let br: TestServer;
  let homes = 0;
  const home = (): string => join(work.path, `home-${homes++}`);
  const index = (): string => `${br.url}/repo/pypi/simple/`;
  const wheels = new Map<string, string>();

  before(async () => {
    work = await tempDir('pypi-remote-');
    const port = await freePort();
    relay = await startRelay(`http://127.0.0.1:${port}`);
    up = await startPypiserver(join(work.path, 'ps'), { port });
    const specs = [
      { name: 'Hello.World', version: '1.0.0', requires: ['dep_x>=1'] },
      { name: 'dep_x', version: '1.2', requiresPython: '>=3.8' },
      { name: 'dep_x', version: '1.3rc1' },
      { name: 'big-wheel', version: '2.0', padding: 3_000_000 },
    ];
    for (const s of specs) {
      const d = await makeDists(join(work.path, 'dists', `${s.name}-${s.version}`), s);
      wheels.set(`${s.name}-${s.version}`, d.wheel);
      const r = await twineUpload([d.wheel, d.sdist], `${up.url}/`, home());
      assert.equal(r.code, 0, r.stderr);
    }
    br = await startServer({ config: { repos: [{ name: 'pypi', format: 'pypi', type: 'remote', upstream: { url: `${relay.url}/simple`, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }] } });
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('pip install through the remote: files come from binaryrepo with the upstream hashes', async () => {
    const target = join(work.path, 't-pip');
    const r = await py('pip', ['install', '--target', target, '--index-url', index(), 'Hello_World'], { cwd: work.path, home: home() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Successfully installed Hello_World-1\.0\.0 dep_x-1\.2/);
    assert.equal(await readFile(join(target, 'hello_world', '__init__.py'), 'utf8'), "VERSION = '1.0.0'\n");
    assert.ok(relay.count('GET', '/packages/Hello_World-1.0.0-py3-none-any.whl') === 1, 'the wheel came through the cache from upstream once');
  });

  it('pages by Accept: JSON and HTML forms with their own ETags, Vary, 304, and redirects for other spellings', async () => {
    const j = await fetch(`${index()}dep-x/`, { headers: { accept: JSON_ACCEPT } });
    assert.equal(j.status, 200);
    assert.equal(j.headers.get('content-type'), 'application/vnd.pypi.simple.v1+json');
    assert.match(j.headers.get('vary') ?? '', /accept/i);
    const page = (await j.json()) as JsonPage;
    assert.equal(page.name, 'dep-x');
    assert.deepEqual(page.versions, ['1.2', '1.3rc1']);
    const whl = page.files.find((f) => f.filename === 'dep_x-1.2-py3-none-any.whl');
    const want = createHash('sha256').update(await readFile(wheels.get('dep_x-1.2') ?? '')).digest('hex');
    assert.equal(whl?.hashes.sha256, want);
    assert.equal(whl?.url, '../../files/dep-x/dep_x-1.2-py3-none-any.whl');
    const h = await fetch(`${index()}dep-x/`, { headers: { accept: 'text/html' } });
    assert.equal(h.headers.get('content-type'), 'text/html');
    const html = await h.text();
    assert.ok(html.includes(`href="../../files/dep-x/dep_x-1.2-py3-none-any.whl#sha256=${want}"`), html);
    assert.notEqual(h.headers.get('etag'), j.headers.get('etag'));
    const again = await fetch(`${index()}dep-x/`, { headers: { accept: 'text/html', 'if-none-match': h.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    for (const spelling of ['Dep_X/', 'dep.x/', 'dep-x']) {
      const r = await fetch(`${index()}${spelling}`, { redirect: 'manual' });
      assert.equal(r.status, 301, spelling);
      assert.equal(r.headers.get('location'), '/repo/pypi/simple/dep-x/');
    }
    const file = await fetch(`${br.url}/repo/pypi/files/dep-x/dep_x-1.2-py3-none-any.whl`, { headers: { range: 'bytes=-22' } });
    assert.equal(file.status, 206);
    assert.equal((await file.arrayBuffer()).byteLength, 22);
  });

  it('once a wheel is cached, its METADATA is listed (PEP 658) and served, and uv resolves without downloading it', async () => {
    const before = (await (await fetch(`${index()}big-wheel/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    assert.equal(before.files.find((f) => f.filename.endsWith('.whl'))?.['core-metadata'], false, 'pypiserver offers no metadata and nothing is cached yet');
    const w = await fetch(`${br.url}/repo/pypi/files/big-wheel/big_wheel-2.0-py3-none-any.whl`);
    assert.equal((await w.arrayBuffer()).byteLength > 3_000_000, true);
    await br.server.fills.idle();
    const after = (await (await fetch(`${index()}big-wheel/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    const meta = after.files.find((f) => f.filename.endsWith('.whl'))?.['core-metadata'];
    assert.ok(typeof meta === 'object' && meta !== null, JSON.stringify(after));
    const m = await fetch(`${br.url}/repo/pypi/files/big-wheel/big_wheel-2.0-py3-none-any.whl.metadata`);
    const text = await m.text();
    assert.match(text, /^Metadata-Version: 2\.1\nName: big-wheel\nVersion: 2\.0\n/);
    assert.equal(createHash('sha256').update(text).digest('hex'), meta.sha256);
    // uv reads the .metadata file instead of the 3 MB wheel while resolving.
    const proj = join(work.path, 'uvproj');
    await py('uv', ['init', '--bare', '--name', 'uvproj', proj], { cwd: work.path, home: home() });
    const h = home();
    const logsAt = br.logs.length;
    const lock = await py('uv', ['add', '--no-sync', '--index-url', index(), 'big-wheel==2.0'], { cwd: proj, home: h });
    assert.equal(lock.code, 0, lock.stderr);
    assert.match(await readFile(join(proj, 'uv.lock'), 'utf8'), /name = "big-wheel"\nversion = "2\.0"/);
    const fetched = br.logs.slice(logsAt).filter((l) => l.includes('big_wheel-2.0-py3-none-any.whl'));
    assert.ok(fetched.length > 0 && fetched.every((l) => l.includes('.whl.metadata')), fetched.join('\n'));
  });

  it('pip --require-hashes, pip download, and 8 concurrent installs with one upstream GET per file', async () => {
    const req = join(work.path, 'requirements.txt');
    const sha = (k: string): Promise<string> => readFile(wheels.get(k) ?? '').then((b) => createHash('sha256').update(b).digest('hex'));
    await writeFile(req, `dep-x==1.2 --hash=sha256:${await sha('dep_x-1.2')}\n`);
    const r = await py('pip', ['install', '--require-hashes', '--only-binary', ':all:', '--target', join(work.path, 't-hash'), '--index-url', index(), '-r', req], { cwd: work.path, home: home() });
    assert.equal(r.code, 0, r.stderr);
    const dl = await py('pip', ['download', '--no-deps', '--only-binary', ':all:', '--dest', join(work.path, 'dl'), '--index-url', index(), 'dep-x==1.2'], { cwd: work.path, home: home() });
    assert.equal(dl.code, 0, dl.stderr);
    assert.deepEqual(await readdir(join(work.path, 'dl')), ['dep_x-1.2-py3-none-any.whl']);
    relay.reset();
    const fresh = await startServer({ config: { repos: [{ name: 'pypi', format: 'pypi', type: 'remote', upstream: { url: `${relay.url}/simple` } }] } });
    try {
      const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => py('pip', ['install', '--target', join(work.path, `t8-${i}`), '--index-url', `${fresh.url}/repo/pypi/simple/`, 'hello-world', 'big-wheel'], { cwd: work.path, home: home() })));
      for (const x of runs) assert.equal(x.code, 0, x.stderr);
      for (const f of ['Hello_World-1.0.0-py3-none-any.whl', 'dep_x-1.2-py3-none-any.whl', 'big_wheel-2.0-py3-none-any.whl']) assert.equal(relay.count('GET', `/packages/${f}`), 1, f);
      for (const p of ['hello-world', 'dep-x', 'big-wheel']) assert.equal(relay.count('GET', `/simple/${p}/`), 1, p);
    } finally {
      await fresh.close();
    }
  });

  it('with the upstream stopped, what is cached still installs (pages served stale)', async () => {
    await up.stop();
    const r = await py('pip', ['install', '--target', join(work.path, 't-down'), '--index-url', index(), 'hello-world'], { cwd: work.path, home: home() });
    assert.equal(r.code, 0, r.stderr);
    const page = await fetch(`${index()}hello-world/`);
    assert.equal(page.headers.get('x-cache'), 'STALE');
    const none = await fetch(`${index()}never-cached/`);
    assert.ok(none.status === 502 || none.status === 503 || none.status === 504, String(none.status));
  });
});
