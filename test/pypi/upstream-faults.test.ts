import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { listenLoopback } from '../helpers/listen.ts';
import { makeDists } from '../helpers/pypi.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

// Issue 26: upstream pages and files that misbehave, from a fake index (a small Hono app with call
// counters): hostile attributes, a file whose bytes are not its hash, a 50 MB page, yanked files,
// and a JSON (PEP 691) upstream offering PEP 658 metadata.
describe('PyPI remote: an upstream that misbehaves', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  let br: TestServer;
  let clock = Date.now();
  let healthy = false;
  const calls = new Map<string, number>();
  let wheel: Uint8Array;
  const META = new TextEncoder().encode('Metadata-Version: 2.1\nName: jsonpkg\nVersion: 1.0\n');

  before(async () => {
    work = await tempDir('pypi-faults-');
    wheel = new Uint8Array(await readFile((await makeDists(join(work.path, 'd'), { name: 'evil', version: '1.0' })).wheel));
    const hostile = [
      '<html><body>',
      `<a href="/f/evil-1.0-py3-none-any.whl#sha256=${sha(wheel)}" data-requires-python="&gt;=3&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" onclick="x()">evil</a>`,
      `<a href="/f/evil-1.0.tar.gz#sha256=${'0'.repeat(64)}" data-yanked="bad &lt;b&gt;release&lt;/b&gt;">sdist</a>`,
      '<a href="javascript:alert(1)">js</a><a href="/f/not a file">x</a>',
      '</body></html>',
    ].join('\n');
    const app = new Hono();
    app.use('*', async (c, next) => {
      calls.set(c.req.path, (calls.get(c.req.path) ?? 0) + 1);
      await next();
    });
    app.get('/simple/evil/', () => new Response(hostile, { headers: { 'content-type': 'text/html' } }));
    app.get('/f/evil-1.0-py3-none-any.whl', () => new Response(healthy ? wheel : wheel.map((b, i) => (i === 100 ? b ^ 1 : b))));
    app.get('/f/evil-1.0.tar.gz', () => new Response('an sdist'));
    app.get('/simple/huge/', () => new Response(`<html>${'<a href="/x">x</a>'.repeat((50 << 20) / 18)}</html>`, { headers: { 'content-type': 'text/html' } }));
    app.get('/simple/jsonpkg/', (c) => {
      c.header('x-pypi-last-serial', '4242');
      return c.json({ meta: { 'api-version': '1.1' }, name: 'jsonpkg', files: [{ filename: 'jsonpkg-1.0-py3-none-any.whl', url: 'https://files.example.invalid/never', hashes: { sha256: sha(wheel) }, 'core-metadata': { sha256: sha(META) }, size: wheel.byteLength, 'upload-time': '2026-01-02T03:04:05.000000Z' }] }, 200, { 'content-type': 'application/vnd.pypi.simple.v1+json' });
    });
    up = await listenLoopback(app.fetch);
    // The JSON page names its files on another host; the fake answers only here, so rewrite it.
    app.get('/simple/jsonpkg2/', (c) => c.json({ meta: { 'api-version': '1.1' }, name: 'jsonpkg', files: [{ filename: 'jsonpkg-1.0-py3-none-any.whl', url: `${up.url}/j/jsonpkg-1.0-py3-none-any.whl`, hashes: { sha256: sha(wheel) }, 'core-metadata': { sha256: sha(META) }, size: wheel.byteLength }] }, 200, { 'content-type': 'application/vnd.pypi.simple.v1+json' }));
    app.get('/j/jsonpkg-1.0-py3-none-any.whl.metadata', () => new Response(META));
    br = await startServer({ config: { repos: [{ name: 'pypi', format: 'pypi', type: 'remote', upstream: { url: `${up.url}/simple` } }] }, now: () => clock });
  });

  after(() => closeAll(() => br?.close(), () => up?.close(), () => work?.cleanup()));

  it('hostile attributes from the upstream are re-served escaped; non-file links are dropped; yanked kept with its reason', async () => {
    const html = await (await fetch(`${br.url}/repo/pypi/simple/evil/`)).text();
    assert.ok(!html.includes('<script>') && !html.includes('onclick') && !html.includes('javascript:'), html);
    assert.ok(html.includes('data-requires-python="&gt;=3&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"'), html);
    assert.ok(html.includes('data-yanked="bad &lt;b&gt;release&lt;/b&gt;"'), html);
    assert.equal((html.match(/<a /g) ?? []).length, 2);
    const j = (await (await fetch(`${br.url}/repo/pypi/simple/evil/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json()) as { files: Array<{ filename: string; yanked: unknown; 'requires-python'?: string }> };
    assert.deepEqual(j.files.map((f) => [f.filename, f.yanked]), [['evil-1.0-py3-none-any.whl', false], ['evil-1.0.tar.gz', 'bad <b>release</b>']]);
    assert.equal(j.files[0]?.['requires-python'], '>=3"><script>alert(1)</script>');
  });

  it('a file whose bytes do not match the page\'s sha256 is never cached; the right one then is', async () => {
    const path = '/f/evil-1.0-py3-none-any.whl';
    for (let n = 0; n < 2; n++) {
      const before = calls.get(path) ?? 0;
      await assert.rejects(fetch(`${br.url}/repo/pypi/files/evil/evil-1.0-py3-none-any.whl`).then((r) => r.arrayBuffer()));
      await br.server.fills.idle();
      // Two GETs per request: a client's body survives one failed fill by going on with a fresh one.
      assert.equal(calls.get(path), before + 2);
    }
    healthy = true;
    const asked = calls.get(path) ?? 0;
    for (let n = 0; n < 2; n++) {
      const r = await fetch(`${br.url}/repo/pypi/files/evil/evil-1.0-py3-none-any.whl`);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), wheel);
      await br.server.fills.idle();
    }
    assert.equal(calls.get(path), asked + 1);
  });

  it('a 50 MB page is a 502 with the reason, remembered a while, and nothing is stored', async () => {
    const ask = async (): Promise<void> => {
      const r = await fetch(`${br.url}/repo/pypi/simple/huge/`);
      assert.equal(r.status, 502);
      assert.match(await r.text(), /larger than maxPageBytes/);
    };
    await ask();
    await ask();
    assert.equal(calls.get('/simple/huge/'), 1);
    clock += 31_000;
    await ask();
    assert.equal(calls.get('/simple/huge/'), 2);
  });

  it('a JSON upstream: sizes, upload times, the serial and PEP 658 metadata (fetched from the upstream, verified) pass through', async () => {
    const r = await fetch(`${br.url}/repo/pypi/simple/jsonpkg2/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } });
    const j = (await r.json()) as { meta: Record<string, unknown>; files: Array<{ size: number; 'core-metadata': { sha256: string } }> };
    assert.equal(j.meta['api-version'], '1.1');
    assert.equal(j.files[0]?.size, wheel.byteLength);
    assert.equal(j.files[0]?.['core-metadata'].sha256, sha(META));
    const m = await fetch(`${br.url}/repo/pypi/files/jsonpkg2/jsonpkg-1.0-py3-none-any.whl.metadata`);
    assert.equal(m.status, 200);
    assert.deepEqual(new Uint8Array(await m.arrayBuffer()), META);
    const serial = (await (await fetch(`${br.url}/repo/pypi/simple/jsonpkg/`, { headers: { accept: 'application/vnd.pypi.simple.v1+json' } })).json()) as { meta: Record<string, unknown> };
    assert.equal(serial.meta['_last-serial'], 4242);
  });
});
