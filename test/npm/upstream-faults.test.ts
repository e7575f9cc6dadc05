import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { tarGz } from '../helpers/helm.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { npm, npmHome, writePackage } from '../helpers/npm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sri = (b: Uint8Array): string => `sha512-${createHash('sha512').update(b).digest('base64')}`;

// Issue 25: an upstream that sends a tarball other than its packument's integrity, and one that
// sends a 50 MB packument. A fake registry (a small Hono app with call counters) is the upstream:
// no real registry misbehaves on cue.
describe('npm remote: an upstream that misbehaves', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  let br: TestServer;
  let good: Uint8Array;
  let healthy = false;
  let clock = Date.now();
  const calls = new Map<string, number>();

  before(async () => {
    work = await tempDir('npm-faults-');
    good = await tarGz([{ name: 'package/package.json', data: '{"name":"bad-int","version":"1.0.0"}' }, { name: 'package/index.js', data: 'module.exports = "good";\n' }]);
    const bad = await tarGz([{ name: 'package/package.json', data: '{"name":"bad-int","version":"1.0.0"}' }, { name: 'package/index.js', data: 'module.exports = "evil";\n' }]);
    const huge = JSON.stringify({ name: 'huge', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name: 'huge', version: '1.0.0', dist: { tarball: 'http://x/huge/-/huge-1.0.0.tgz' } } }, readme: 'x'.repeat(50 << 20) });
    const app = new Hono();
    app.use('*', async (c, next) => {
      calls.set(c.req.path, (calls.get(c.req.path) ?? 0) + 1);
      await next();
    });
    app.get('/bad-int', (c) =>
      c.json({ name: 'bad-int', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name: 'bad-int', version: '1.0.0', dist: { integrity: sri(good), tarball: `${up.url}/bad-int/-/bad-int-1.0.0.tgz` } } }, time: { '1.0.0': '2026-01-01T00:00:00.000Z' } }),
    );
    app.get('/bad-int/-/bad-int-1.0.0.tgz', () => new Response(healthy ? good : bad, { headers: { 'content-type': 'application/octet-stream' } }));
    app.get('/huge', () => new Response(huge, { headers: { 'content-type': 'application/json' } }));
    up = await listenLoopback(app.fetch);
    br = await startServer({ config: { repos: [{ name: 'npmjs', format: 'npm', type: 'remote', upstream: { url: up.url } }] }, now: () => clock });
  });

  after(() => closeAll(() => br?.close(), () => up?.close(), () => work?.cleanup()));

  it('a tarball that does not match its integrity is never cached; npm fails cleanly; the right one is kept', async () => {
    const path = '/bad-int/-/bad-int-1.0.0.tgz';
    const dir = await writePackage(join(work.path, 'app'), { name: 'app', version: '1.0.0', dependencies: { 'bad-int': '1.0.0' } });
    const home = await npmHome(join(work.path, 'home'), `${br.url}/repo/npmjs/`);
    const i = await npm(['install', '--no-audit'], { cwd: dir, home });
    assert.notEqual(i.code, 0, 'npm installed a tarball whose integrity is wrong');
    assert.match(i.stderr, /EINTEGRITY|integrity|ECONNRESET|aborted|terminated|socket/i);
    await assert.rejects(readdir(join(dir, 'node_modules', 'bad-int')), /ENOENT/);
    // Asked again, the upstream is asked again: nothing was kept, and the answer never completes.
    // Each request costs two upstream GETs: a client's body survives one failed fill by going on
    // with a fresh one (the kit's resumingSource); the second mismatch is final.
    for (let n = 0; n < 2; n++) {
      const before = calls.get(path) ?? 0;
      await assert.rejects(fetch(`${br.url}/repo/npmjs${path}`).then((r) => r.arrayBuffer()));
      await br.server.fills.idle();
      assert.equal(calls.get(path), before + 2);
    }
    healthy = true;
    const asked = calls.get(path) ?? 0;
    for (let n = 0; n < 2; n++) {
      const r = await fetch(`${br.url}/repo/npmjs${path}`);
      assert.equal(r.status, 200);
      assert.deepEqual(new Uint8Array(await r.arrayBuffer()), good);
      await br.server.fills.idle();
    }
    assert.equal(calls.get(path), asked + 1, 'fetched once more, then kept');
    const again = await npm(['install', '--no-audit'], { cwd: dir, home: await npmHome(join(work.path, 'home2'), `${br.url}/repo/npmjs/`) });
    assert.equal(again.code, 0, again.stderr);
  });

  it('a 50 MB packument (over maxPackumentBytes) is a 502 with an npm-style reason, and nothing is stored', async () => {
    const ask = async (): Promise<void> => {
      const r = await fetch(`${br.url}/repo/npmjs/huge`);
      assert.equal(r.status, 502);
      assert.equal(r.headers.get('content-type'), 'application/json');
      assert.match(((await r.json()) as { error: string }).error, /larger than maxPackumentBytes/);
    };
    await ask();
    await ask();
    assert.equal(calls.get('/huge'), 1, 'the failure is remembered for a while: the upstream is not asked by every client');
    clock += 31_000;
    await ask();
    assert.equal(calls.get('/huge'), 2, 'then asked again: nothing was stored');
  });
});
