import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { listenLoopback } from '../helpers/listen.ts';
import { run } from '../helpers/net.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** curl as a user runs it: body to a file, headers to another; returns the headers it saw. */
async function curl(url: string, out: string, extra: string[] = []): Promise<{ code: number | null; headers: string; stderr: string }> {
  const hdr = `${out}.headers`;
  const r = await run('curl', ['-sS', '--fail', '-D', hdr, '-o', out, ...extra, url], { timeoutMs: 120_000 });
  return { code: r.code, headers: await readFile(hdr, 'utf8').catch(() => ''), stderr: r.stderr };
}
const xcache = (headers: string): string | undefined => /^x-cache: (\S+)/im.exec(headers)?.[1];

// Issue 10: a generic remote repo in front of nginx serving static files (ETag, Last-Modified),
// with curl and wget as the clients, the upstream counted by a relay.
describe('generic remote repo (nginx upstream, curl and wget)', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let liar: Awaited<ReturnType<typeof listenLoopback>>;
  let br: TestServer;
  let clock = Date.now();
  const big = new Uint8Array(randomBytes(100 * 1024 * 1024));
  const small = new TextEncoder().encode('release notes v1\n');

  before(async () => {
    work = await tempDir('generic-remote-');
    const root = join(work.path, 'www');
    await mkdir(join(root, 'releases', 'v1'), { recursive: true });
    await writeFile(join(root, 'releases', 'v1', 'notes.txt'), small);
    await writeFile(join(root, 'releases', 'v1', 'big.bin'), big);
    await writeFile(join(root, 'later.txt'), 'served while up\n');
    ngx = await startStaticNginx(root, work.path);
    relay = await startRelay(ngx.url);
    // An upstream that lies: a short body under a full Content-Length, or bytes that miss its checksum.
    const app = new Hono();
    app.get('/short.bin', () => new Response(new Uint8Array(1000), { headers: { 'content-length': '5000' } }));
    app.get('/bad-sum.bin', () => new Response(new Uint8Array(2000).fill(1), { headers: { 'x-checksum-sha256': sha(new Uint8Array(2000)) } }));
    liar = await listenLoopback(app.fetch);
    br = await startServer({
      now: () => clock,
      config: {
        repos: [
          { name: 'dl', format: 'generic', type: 'remote', upstream: { url: relay.url, headersTimeoutSeconds: 5, breakerFailures: 1000 }, cache: { ttlSeconds: 60 } },
          { name: 'liar', format: 'generic', type: 'remote', upstream: { url: liar.url } },
        ],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => liar?.close(), () => work?.cleanup()));

  const url = (p: string): string => `${br.url}/repo/dl/${p}`;

  it('cold with curl (MISS), warm (HIT); one upstream GET', async () => {
    const out = join(work.path, 'notes-1');
    const cold = await curl(url('releases/v1/notes.txt'), out);
    assert.equal(cold.code, 0, cold.stderr);
    assert.equal(xcache(cold.headers), 'MISS');
    assert.deepEqual(new Uint8Array(await readFile(out)), small);
    const warm = await curl(url('releases/v1/notes.txt'), `${out}-warm`);
    assert.equal(xcache(warm.headers), 'HIT');
    assert.match(warm.headers, new RegExp(`x-checksum-sha256: ${sha(small)}`, 'i'));
    assert.equal(relay.count('GET', '/releases/v1/notes.txt'), 1);
  });

  it('after the TTL: revalidated with the upstream ETag (304), then a changed file is fetched again', async () => {
    await br.server.fills.idle();
    clock += 61_000;
    const r = await curl(url('releases/v1/notes.txt'), join(work.path, 'notes-2'));
    assert.equal(xcache(r.headers), 'REVALIDATED');
    assert.equal(relay.count('GET', '/releases/v1/notes.txt'), 2);
    const changed = new TextEncoder().encode('release notes v1, corrected\n');
    await writeFile(join(work.path, 'www', 'releases', 'v1', 'notes.txt'), changed);
    clock += 61_000;
    const again = await curl(url('releases/v1/notes.txt'), join(work.path, 'notes-3'));
    assert.equal(xcache(again.headers), 'MISS');
    assert.deepEqual(new Uint8Array(await readFile(join(work.path, 'notes-3'))), changed);
  });

  it('8 concurrent cold downloads of a 100 MB file: one upstream GET, every copy intact', async () => {
    const before = relay.count('GET', '/releases/v1/big.bin');
    const outs = Array.from({ length: 8 }, (_, i) => join(work.path, `big-${i}`));
    const results = await Promise.all(outs.map((o) => curl(url('releases/v1/big.bin'), o)));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    for (const o of outs) assert.equal(sha(new Uint8Array(await readFile(o))), sha(big));
    assert.equal(relay.count('GET', '/releases/v1/big.bin') - before, 1);
  });

  it('an interrupted download resumes with curl -C - and wget -c (Range)', async () => {
    const half = big.subarray(0, 40 * 1024 * 1024);
    const c = join(work.path, 'resume-curl');
    await writeFile(c, half);
    const r = await curl(url('releases/v1/big.bin'), c, ['-C', '-']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.headers, /^HTTP\/1\.1 206/m);
    assert.equal(sha(new Uint8Array(await readFile(c))), sha(big));
    const w = join(work.path, 'resume-wget');
    await writeFile(w, half);
    const wr = await run('wget', ['-q', '-c', '-O', w, url('releases/v1/big.bin')], { timeoutMs: 120_000 });
    assert.equal(wr.code, 0, wr.stderr);
    assert.equal(sha(new Uint8Array(await readFile(w))), sha(big));
  });

  it('with the upstream stopped: cached files are served STALE, others fail honestly (502/503)', async () => {
    const first = await run('wget', ['-q', '-O', join(work.path, 'later-1'), url('later.txt')], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    // wget has every (verified) byte before the file's document is written: let it be, then age it.
    await br.server.fills.idle();
    await ngx.stop();
    clock += 61_000;
    try {
      const stale = await curl(url('later.txt'), join(work.path, 'later-2'));
      assert.equal(stale.code, 0, stale.stderr);
      assert.equal(xcache(stale.headers), 'STALE');
      assert.equal(await readFile(join(work.path, 'later-2'), 'utf8'), 'served while up\n');
      const missing = await fetch(url('never-fetched.txt'));
      assert.ok(missing.status === 502 || missing.status === 503, `status ${missing.status}`);
      await missing.body?.cancel();
    } finally {
      await ngx.restart();
    }
  });

  it('an upstream that sends fewer bytes than its Content-Length, or bytes that miss its checksum: nothing cached', async () => {
    for (const p of ['short.bin', 'bad-sum.bin']) {
      const r = await fetch(`${br.url}/repo/liar/${p}`);
      await assert.rejects(r.arrayBuffer(), `${p}: the body breaks off`);
      await br.server.fills.idle();
      const listed = await fetch(`${br.url}/repo/liar/?list`);
      const children = ((await listed.json()) as { children: unknown[] }).children;
      assert.deepEqual(children, [], `${p}: nothing cached`);
    }
  });
});
