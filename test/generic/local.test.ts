import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { rawRequest, run } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');
type Err = { errors: Array<{ status: number; code: string; message: string }> };

// Issue 10: generic local and virtual repos (upload, overwrite policy, delete, listings, checksums),
// curl as the client, with users and permissions; hostile paths sent raw.
describe('generic local and virtual repos', () => {
  let srv: TestServer;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const url = (repo: string, p: string): string => `${srv.url}/repo/${repo}/${p}`;
  const w = { authorization: basic('writer') };

  before(async () => {
    work = await tempDir('generic-local-');
    srv = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'files', format: 'generic', type: 'local', maxFileBytes: 5_000_000, permissions: { read: ['anonymous'], write: ['writer'], delete: ['writer'] } },
          { name: 'mutable', format: 'generic', type: 'local', allowOverwrite: true, maxBytes: 300_000, permissions: { read: ['reader'], write: ['writer'] } },
          { name: 'all', format: 'generic', type: 'virtual', members: ['files', 'mutable'], deployTo: 'files', permissions: { read: ['anonymous'], write: ['writer'] } },
        ],
      },
    });
  });
  after(() => closeAll(() => srv?.close(), () => work?.cleanup()));

  it('curl uploads with its checksum; GET and HEAD give ETag, X-Checksum-Sha256, Range and 304', async () => {
    const data = new Uint8Array(randomBytes(1_000_000));
    const file = join(work.path, 'tool.tar.gz');
    await writeFile(file, data);
    const up = await run('curl', ['-sS', '--fail', '-u', 'writer:writer-secret-1', '-H', `X-Checksum-Sha256: ${sha(data)}`, '-T', file, url('files', 'tools/1.0/tool.tar.gz')]);
    assert.equal(up.code, 0, up.stderr);
    assert.equal((JSON.parse(up.stdout) as { checksums: { sha256: string } }).checksums.sha256, sha(data));
    const get = await fetch(url('files', 'tools/1.0/tool.tar.gz'));
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('x-checksum-sha256'), sha(data));
    assert.equal(get.headers.get('x-cache'), 'LOCAL');
    const etag = get.headers.get('etag') ?? '';
    assert.equal(sha(new Uint8Array(await get.arrayBuffer())), sha(data));
    const head = await fetch(url('files', 'tools/1.0/tool.tar.gz'), { method: 'HEAD' });
    assert.equal(head.headers.get('content-length'), String(data.byteLength));
    const cond = await fetch(url('files', 'tools/1.0/tool.tar.gz'), { headers: { 'if-none-match': etag } });
    assert.equal(cond.status, 304);
    const part = await fetch(url('files', 'tools/1.0/tool.tar.gz'), { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), data.subarray(100, 200));
    const out = join(work.path, 'down');
    const down = await run('curl', ['-sS', '--fail', '-o', out, url('files', 'tools/1.0/tool.tar.gz')]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(sha(new Uint8Array(await readFile(out))), sha(data));
  });

  it('a checksum that does not match stores nothing; the same path again is 409 unless overwrites are allowed', async () => {
    const bad = await fetch(url('files', 'tools/bad.bin'), { method: 'PUT', body: 'abc', headers: { ...w, 'x-checksum-sha256': sha('something else') } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as Err).errors[0]?.code, 'CHECKSUM_MISMATCH');
    assert.equal((await fetch(url('files', 'tools/bad.bin'))).status, 404);
    const again = await fetch(url('files', 'tools/1.0/tool.tar.gz'), { method: 'PUT', body: 'new', headers: w });
    assert.equal(again.status, 409);
    assert.equal((await fetch(url('mutable', 'a.txt'), { method: 'PUT', body: 'one', headers: w })).status, 201);
    assert.equal((await fetch(url('mutable', 'a.txt'), { method: 'PUT', body: 'two', headers: w })).status, 200);
    assert.equal(await (await fetch(url('mutable', 'a.txt'), { headers: { authorization: basic('reader') } })).text(), 'two');
  });

  it('size limits and the quota refuse while the bytes arrive, and keep nothing', async () => {
    const tooBig = await fetch(url('files', 'huge.bin'), { method: 'PUT', body: new Uint8Array(6_000_000), headers: w });
    assert.equal(tooBig.status, 413);
    const overQuota = await fetch(url('mutable', 'big.bin'), { method: 'PUT', body: new Uint8Array(400_000), headers: w });
    assert.equal(overQuota.status, 403);
    assert.equal(((await overQuota.json()) as Err).errors[0]?.code, 'QUOTA_EXCEEDED');
    for (const [repo, p] of [['files', 'huge.bin'], ['mutable', 'big.bin']] as const) {
      assert.equal((await fetch(url(repo, p), { headers: { authorization: basic('writer') } })).status, 404);
    }
  });

  it('listings: JSON with ?list, an HTML index for browsers with every name escaped', async () => {
    const evil = '<img src=x onerror=alert(1)>.txt';
    assert.equal((await fetch(url('files', `docs/${encodeURIComponent(evil)}`), { method: 'PUT', body: 'x', headers: w })).status, 201);
    const json = (await (await fetch(url('files', 'docs/?list'))).json()) as { children: Array<{ name: string; type: string }> };
    assert.deepEqual(json.children.map((c) => [c.name, c.type]), [[evil, 'file']]);
    const root = (await (await fetch(url('files', '?list'))).json()) as { children: Array<{ name: string; type: string }> };
    assert.deepEqual(root.children.map((c) => c.name).sort(), ['docs', 'tools']);
    const html = await (await fetch(url('files', 'docs/'))).text();
    assert.ok(!html.includes('<img'), 'the name is escaped');
    assert.ok(html.includes('&#60;img'), html);
    assert.equal((await fetch(url('files', 'nothing/here/'))).status, 404);
  });

  it('virtual: first member that has the file; uploads land in deployTo; members the caller may not read stay hidden', async () => {
    assert.equal((await fetch(url('all', 'tools/1.0/tool.tar.gz'), { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(url('all', 'a.txt'))).status, 404, 'anonymous may not read mutable through all');
    assert.equal(await (await fetch(url('all', 'a.txt'), { headers: { authorization: basic('reader') } })).text(), 'two');
    assert.equal((await fetch(url('all', 'via-virtual.txt'), { method: 'PUT', body: 'v', headers: w })).status, 201);
    assert.equal(await (await fetch(url('files', 'via-virtual.txt'))).text(), 'v');
  });

  it('permissions: anonymous may not upload (401 with a Basic challenge), a reader may not (403), delete needs delete', async () => {
    const anon = await fetch(url('files', 'x.txt'), { method: 'PUT', body: 'x' });
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const reader = await fetch(url('files', 'x.txt'), { method: 'PUT', body: 'x', headers: { authorization: basic('reader') } });
    assert.equal(reader.status, 403);
    assert.equal((await fetch(url('files', 'docs/nope.txt'), { method: 'DELETE', headers: w })).status, 404);
    assert.equal((await fetch(url('files', 'via-virtual.txt'), { method: 'DELETE', headers: w })).status, 204);
    assert.equal((await fetch(url('files', 'via-virtual.txt'))).status, 404);
  });

  it('path traversal in every form, NUL, backslash, absurd lengths: 400 or 404, never a file outside the store', async () => {
    const refused = ['/repo/files/../../etc/passwd', '/repo/files/%2e%2e/%2e%2e/etc/passwd', '/repo/files/a%2f..%2f..%2fb', '/repo/files/a%5c..%5cb', '/repo/files/a%00b', '/repo/files/a//b', `/repo/files/${'x'.repeat(600)}`, `/repo/files/${'%C3%A9'.repeat(300)}`];
    for (const p of refused) {
      for (const method of ['GET', 'PUT']) {
        const r = await rawRequest(srv.url, { method, path: p, ...(method === 'PUT' ? { headers: { authorization: basic('writer') }, body: 'x' } : {}) });
        assert.ok(r.status === 400 || r.status === 404, `${method} ${p} → ${r.status}`);
      }
    }
    // A dot segment that stays inside the repo is resolved by the URL parser itself (WHATWG URL, on
    // every runtime) before any handler sees it: a/%2e%2e/b is b, as in a browser.
    const inside = await rawRequest(srv.url, { method: 'PUT', path: '/repo/files/a/%2e%2e/b.txt', headers: { authorization: basic('writer') }, body: 'b' });
    assert.equal(inside.status, 201);
    assert.equal(await (await fetch(url('files', 'b.txt'))).text(), 'b');
    const tree = await run('find', [srv.dataDir, '(', '-name', 'passwd', '-o', '-name', '..*', '-o', '-name', 'etc', ')']);
    assert.equal(tree.stdout.trim(), '');
  });
});
