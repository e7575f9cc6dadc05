import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { makeDists, py, startPypiserver, twineUpload } from '../helpers/pypi.ts';
import type { Pypiserver } from '../helpers/pypi.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

type JsonPage = { versions: string[]; files: Array<{ filename: string; yanked: boolean | string; 'core-metadata': false | { sha256: string }; size: number; 'upload-time': string }> };
const JSON_ACCEPT = 'application/vnd.pypi.simple.v1+json';

/** A multipart upload as twine sends it, for bytes of any kind (the hostile cases). */
function form(fields: Record<string, string>, file: { name: string; bytes: Uint8Array } | null): { body: Uint8Array; type: string } {
  const b = 'xBoUnDaRyx';
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for (const [k, v] of Object.entries(fields)) parts.push(enc.encode(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) parts.push(enc.encode(`--${b}\r\nContent-Disposition: form-data; name="content"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`), file.bytes, enc.encode('\r\n'));
  parts.push(enc.encode(`--${b}--\r\n`));
  return { body: new Uint8Array(Buffer.concat(parts)), type: `multipart/form-data; boundary=${b}` };
}

// Issue 26: hosted PyPI repos and a virtual over a hosted one and a remote, with twine, pip, uv and poetry.
describe('PyPI local and virtual repos with twine, pip, uv and poetry', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Pypiserver;
  let br: TestServer;
  let token = '';
  let homes = 0;
  const home = (): string => join(work.path, `home-${homes++}`);
  const corp = (): string => `${br.url}/repo/corp/`;
  const virt = (): string => `${br.url}/repo/py/`;

  before(async () => {
    work = await tempDir('pypi-local-');
    up = await startPypiserver(join(work.path, 'ps'));
    for (const s of [{ name: 'public-only', version: '3.0' }, { name: 'corp-secret', version: '9.9' }, { name: 'shared-name', version: '5.0' }]) {
      const d = await makeDists(join(work.path, 'up', s.name), s);
      assert.equal((await twineUpload([d.wheel], `${up.url}/`, home())).code, 0);
    }
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'corp', format: 'pypi', type: 'local', permissions: { read: ['anonymous'], write: ['writer'], delete: ['writer'] } },
          { name: 'pypi', format: 'pypi', type: 'remote', upstream: { url: `${up.url}/simple` }, permissions: { read: ['anonymous'] } },
          { name: 'py', format: 'pypi', type: 'virtual', members: ['corp', 'pypi'], deployTo: 'corp', filters: { pypi: { exclude: ['corp-*'] } }, permissions: { read: ['anonymous'], write: ['writer'] } },
        ],
      },
    });
    const res = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic('writer'), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci upload', repos: ['corp', 'py'], actions: ['read', 'write'], expiresInDays: 1 }) });
    const made = await res.text();
    assert.equal(res.status, 201, made);
    token = (JSON.parse(made) as { token: string }).token;
  });

  after(() => closeAll(() => br?.close(), () => up?.stop(), () => work?.cleanup()));

  it('twine upload with an access token (__token__), then pip and uv install it; a second upload is "File already exists"', async () => {
    const d = await makeDists(join(work.path, 'd', 'tool'), { name: 'Corp_Tool', version: '1.0.0', requiresPython: '>=3.8,<4' });
    const anon = await twineUpload([d.wheel], corp(), home(), { user: 'x', password: 'wrong' });
    assert.notEqual(anon.code, 0);
    const r = await twineUpload([d.wheel, d.sdist], corp(), home(), { user: '__token__', password: token });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const again = await twineUpload([d.wheel], corp(), home(), { user: '__token__', password: token });
    assert.notEqual(again.code, 0);
    assert.match(again.stdout + again.stderr, /400 Bad Request|File already exists/);
    const page = (await (await fetch(`${corp()}simple/corp-tool/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    assert.deepEqual(page.versions, ['1.0.0']);
    const whl = page.files.find((f) => f.filename.endsWith('.whl'));
    assert.equal(whl?.size, (await readFile(d.wheel)).byteLength);
    assert.ok(whl && typeof whl['core-metadata'] === 'object', 'METADATA was extracted at upload');
    const html = await (await fetch(`${corp()}simple/corp-tool/`)).text();
    assert.ok(html.includes('data-requires-python="&gt;=3.8,&lt;4"'), html);
    const pip = await py('pip', ['install', '--target', join(work.path, 't1'), '--index-url', `${corp()}simple/`, 'corp-tool'], { cwd: work.path, home: home() });
    assert.equal(pip.code, 0, pip.stderr);
    const uv = await py('uv', ['pip', 'install', '--target', join(work.path, 't2'), '--python', 'python3', '--index-url', `${corp()}simple/`, 'corp-tool==1.0.0'], { cwd: work.path, home: home() });
    assert.equal(uv.code, 0, uv.stderr);
    assert.equal(await readFile(join(work.path, 't2', 'corp_tool', '__init__.py'), 'utf8'), "VERSION = '1.0.0'\n");
    // uv publish --check-url skips what the index already has (twine 7 keeps --skip-existing for pypi.org only).
    const pub = await py('uv', ['publish', '--publish-url', corp(), '--check-url', `${corp()}simple/`, '-u', '__token__', '-p', token, d.wheel], { cwd: work.path, home: home() });
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stderr, /already exists|Skipping/i);
  });

  it('the JSON API answers poetry-style queries from the upload\'s metadata', async () => {
    const j = (await (await fetch(`${corp()}pypi/corp-tool/json`)).json()) as { info: { name: string; version: string; summary: string; requires_python: string }; releases: Record<string, Array<{ filename: string; url: string; digests: { sha256: string } }>>; urls: unknown[] };
    assert.equal(j.info.version, '1.0.0');
    assert.equal(j.info.summary, 'made by the binaryrepo tests');
    assert.equal(j.info.requires_python, '>=3.8,<4');
    const files = j.releases['1.0.0'] ?? [];
    assert.equal(files.length, 2);
    for (const f of files) {
      const bytes = new Uint8Array(await (await fetch(f.url)).arrayBuffer());
      assert.equal(createHash('sha256').update(bytes).digest('hex'), f.digests.sha256, f.filename);
    }
    assert.equal((await fetch(`${corp()}pypi/corp-tool/1.0.0/json`)).status, 200);
    const missing = await fetch(`${corp()}pypi/corp-tool/7.0/json`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { message: string }).message, /7\.0/);
  });

  it('bad uploads get a clear 4xx and store nothing', async () => {
    const d = await makeDists(join(work.path, 'd', 'bad'), { name: 'bad-one', version: '1.0' });
    const wheel = new Uint8Array(await readFile(d.wheel));
    const good = { ':action': 'file_upload', protocol_version: '1', name: 'bad-one', version: '1.0', filetype: 'bdist_wheel', sha256_digest: createHash('sha256').update(wheel).digest('hex') };
    const cases: Array<[string, { body: Uint8Array; type: string }, number, RegExp]> = [
      ['no file', form(good, null), 400, /no "content" file/],
      ['digest', form({ ...good, sha256_digest: '0'.repeat(64) }, { name: basename(d.wheel), bytes: wheel }), 400, /sha256/],
      ['other name', form({ ...good, name: 'other' }, { name: basename(d.wheel), bytes: wheel }), 400, /does not name the project other|names the project/],
      ['version', form({ ...good, version: '2.0' }, { name: basename(d.wheel), bytes: wheel }), 400, /version/],
      ['bad version', form({ ...good, version: 'not-a-version!' }, { name: 'bad_one-not-a-version!-py3-none-any.whl', bytes: wheel }), 400, /not a valid distribution file name/],
      ['not a zip', form({ ...good, sha256_digest: createHash('sha256').update('junk').digest('hex') }, { name: 'bad_one-1.0-py3-none-any.whl', bytes: new TextEncoder().encode('junk') }), 400, /not a wheel/],
      ['egg', form(good, { name: 'bad_one-1.0-py3.11.egg', bytes: wheel }), 400, /only wheels/],
      ['action', form({ ...good, ':action': 'remove_pkg' }, { name: basename(d.wheel), bytes: wheel }), 400, /:action/],
      ['traversal', form(good, { name: '../../etc/bad_one-1.0-py3-none-any.whl', bytes: wheel }), 200, /OK/],
    ];
    for (const [what, f, status, msg] of cases) {
      const r = await fetch(corp(), { method: 'POST', headers: { 'content-type': f.type, authorization: basic('writer') }, body: f.body });
      assert.equal(r.status, status, `${what}: ${r.status}`);
      assert.match(await r.text(), msg, what);
      if (status !== 200) assert.equal((await fetch(`${corp()}simple/bad-one/`)).status, 404, what);
    }
    // The traversal case stored the file under its base name only.
    assert.equal((await fetch(`${corp()}files/bad-one/bad_one-1.0-py3-none-any.whl`)).status, 200);
    const broken = await fetch(corp(), { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=zz', authorization: basic('writer') }, body: '--zz\r\nContent-Disposition: form-data; name="x"\r\n\r\nnever ends' });
    assert.equal(broken.status, 400);
    assert.match(await broken.text(), /multipart/);
    for (const path of ['files/x/..%2f..%2fsecret', 'simple/..%2f/', 'files/x/a%2fb.whl', 'simple/-bad-/']) {
      const r = await fetch(`${corp()}${path}`);
      assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
    }
  });

  it('8 concurrent uploads of different versions of one project lose nothing', async () => {
    const dists = await Promise.all(Array.from({ length: 8 }, (_, i) => makeDists(join(work.path, 'd', `busy-${i}`), { name: 'busy', version: `1.0.${i}` })));
    const runs = await Promise.all(dists.map((d) => twineUpload([d.wheel], corp(), home(), { user: '__token__', password: token })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const page = (await (await fetch(`${corp()}simple/busy/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    assert.deepEqual(page.versions, Array.from({ length: 8 }, (_, i) => `1.0.${i}`));
  });

  it('virtual: a project a local member hosts is never answered from the remote; uploads go to deployTo; filters hold', async () => {
    const d = await makeDists(join(work.path, 'd', 'shared'), { name: 'shared-name', version: '0.1' });
    const r = await twineUpload([d.wheel], virt(), home(), { user: '__token__', password: token });
    assert.equal(r.code, 0, r.stderr);
    const page = (await (await fetch(`${virt()}simple/shared-name/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    assert.deepEqual(page.versions, ['0.1'], 'the public 5.0 never shows');
    assert.equal((await fetch(`${virt()}files/shared-name/shared_name-5.0-py3-none-any.whl`)).status, 404);
    assert.equal((await fetch(`${virt()}simple/corp-secret/`)).status, 404, 'corp-* never goes upstream');
    const pub = (await (await fetch(`${virt()}simple/public-only/`, { headers: { accept: JSON_ACCEPT } })).json()) as JsonPage;
    assert.deepEqual(pub.versions, ['3.0']);
    const pip = await py('pip', ['install', '--target', join(work.path, 't-v'), '--index-url', `${virt()}simple/`, 'shared-name', 'public-only'], { cwd: work.path, home: home() });
    assert.equal(pip.code, 0, pip.stderr);
    assert.equal(await readFile(join(work.path, 't-v', 'shared_name', '__init__.py'), 'utf8'), "VERSION = '0.1'\n");
  });

  it('poetry install with the virtual as its primary source', async () => {
    const proj = join(work.path, 'poetry-proj');
    const h = home();
    await py('python', ['-c', `import os; os.makedirs(${JSON.stringify(proj)}, exist_ok=True)`], { cwd: work.path, home: h });
    await writeFile(
      join(proj, 'pyproject.toml'),
      ['[project]', 'name = "poetry-proj"', 'version = "0.1.0"', 'requires-python = ">=3.9,<4"', 'dependencies = ["corp-tool==1.0.0", "public-only==3.0"]', '', '[tool.poetry]', 'package-mode = false', '', '[[tool.poetry.source]]', 'name = "corp"', `url = "${virt()}simple/"`, 'priority = "primary"', ''].join('\n'),
    );
    const lock = await py('poetry', ['lock', '--no-interaction'], { cwd: proj, home: h, timeoutMs: 240_000 });
    assert.equal(lock.code, 0, lock.stdout + lock.stderr);
    const inst = await py('poetry', ['install', '--no-interaction', '--no-root'], { cwd: proj, home: h, timeoutMs: 240_000 });
    assert.equal(inst.code, 0, inst.stdout + inst.stderr);
    assert.match(await readFile(join(proj, 'poetry.lock'), 'utf8'), /name = "corp-tool"\nversion = "1\.0\.0"/);
  });
});
