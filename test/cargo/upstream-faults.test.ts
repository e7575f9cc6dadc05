import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { buildSparseTree, cargo, cargoHome, crateFile, indexLine, indexPathOf, sha256, writeApp, writeRegistryConfig } from '../helpers/cargo.ts';
import type { CrateSpec } from '../helpers/cargo.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 28: what a Cargo remote does when the upstream misbehaves, and under concurrent first fetches.
describe('Cargo remote: corrupt upstream crates, concurrent cold fetches', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let fake: Awaited<ReturnType<typeof listenLoopback>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  const calls = new Map<string, number>();
  const good: CrateSpec = { name: 'sound', vers: '1.0.0', padding: 50_000 };
  const shaky: CrateSpec = { name: 'shaky', vers: '1.0.0', padding: 50_000 };
  let goodBytes: Uint8Array;
  let shakyBytes: Uint8Array;
  let bigIndex = '';
  /** The crates the fault upstream sends damaged. */
  const broken = new Set(['sound', 'shaky']);

  before(async () => {
    work = await tempDir('cargo-faults-');
    goodBytes = await crateFile(good);
    shakyBytes = await crateFile(shaky);
    // The fault upstream: its index gives the true checksum; its crate bytes are damaged until told otherwise.
    const app = new Hono();
    app.use('*', async (c, next) => {
      const k = new URL(c.req.url).pathname;
      calls.set(k, (calls.get(k) ?? 0) + 1);
      await next();
    });
    app.get('/config.json', (c) => c.json({ dl: `${fake.url}/dl/{crate}/{version}` }));
    for (const [spec, bytes] of [[good, () => goodBytes], [shaky, () => shakyBytes]] as const) {
      app.get(`/${indexPathOf(spec.name)}`, (c) => c.text(`${JSON.stringify(indexLine(spec, sha256(bytes())))}\n`));
      app.get(`/dl/${spec.name}/1.0.0`, () => {
        const b = bytes().slice();
        if (broken.has(spec.name)) b[b.byteLength - 100] = (b[b.byteLength - 100] ?? 0) ^ 0xff;
        return new Response(b, { headers: { 'content-type': 'application/octet-stream' } });
      });
    }
    // An index file past what a document holds inline (a crate with thousands of versions, as some on crates.io).
    bigIndex = Array.from({ length: 3000 }, (_, i) => JSON.stringify(indexLine({ name: 'huge', vers: `0.${i}.0`, features: { [`feature-${i}`]: ['dep:x'] } }, sha256(new TextEncoder().encode(String(i)))))).join('\n') + '\n';
    app.get(`/${indexPathOf('huge')}`, (c) => c.text(bigIndex));
    fake = await listenLoopback(app.fetch);

    const tree = join(work.path, 'up');
    await buildSparseTree(tree, Array.from({ length: 20 }, (_, i): CrateSpec => ({ name: `dep-${i}`, vers: '1.0.0', padding: 20_000 })));
    up = await startStaticNginx(tree, join(work.path, 'ngx'));
    relay = await startRelay(up.url, { latencyMs: 20 });
    await writeRegistryConfig(tree, relay.url);
    br = await startServer({
      config: {
        repos: [
          { name: 'faulty', format: 'cargo', type: 'remote', upstream: { url: fake.url, breakerFailures: 1000 } },
          { name: 'crates', format: 'cargo', type: 'remote', upstream: { url: `${relay.url}/index` } },
        ],
      },
    });
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => fake?.close(), () => work?.cleanup()));

  it('a crate that does not match the index cksum is refused and not kept: the next request fetches again, and gets the good bytes once the upstream mends', async () => {
    const url = `${br.url}/repo/faulty/api/v1/crates/sound/1.0.0/download`;
    // The bytes stream as they arrive: the mismatch shows as a broken body (never a complete, wrong file).
    const first = await fetch(url).then(async (r) => ({ status: r.status, body: await r.arrayBuffer().then((b) => new Uint8Array(b), () => null) }));
    assert.ok(first.status !== 200 || first.body === null, `the damaged crate was never delivered as complete (status ${first.status}, ${first.body?.byteLength ?? 'no'} bytes)`);
    const asked = calls.get('/dl/sound/1.0.0') ?? 0;
    assert.ok(asked >= 1);
    const second = await fetch(url);
    await second.arrayBuffer().catch(() => null);
    assert.ok((calls.get('/dl/sound/1.0.0') ?? 0) > asked, 'nothing was kept: asked again');
    broken.delete('sound');
    const third = await fetch(url);
    assert.equal(third.status, 200);
    assert.deepEqual(new Uint8Array(await third.arrayBuffer()), goodBytes);
    const mended = calls.get('/dl/sound/1.0.0');
    const fourth = await fetch(url);
    assert.equal(fourth.headers.get('x-cache'), 'HIT');
    assert.deepEqual(new Uint8Array(await fourth.arrayBuffer()), goodBytes);
    assert.equal(calls.get('/dl/sound/1.0.0'), mended);
  });

  it('cargo fetch through the faulty remote fails on a damaged crate, and succeeds once the crate is sound', async () => {
    const dir = join(work.path, 'app-faulty');
    await writeApp(dir, 'app-faulty', ['shaky = "1"']);
    const fetchIt = async (n: number) => cargo(['fetch'], { cwd: dir, home: await cargoHome(join(work.path, `home-faulty-${n}`), `${br.url}/repo/faulty/index/`) });
    const bad = await fetchIt(1);
    assert.notEqual(bad.code, 0, bad.out);
    const res = await fetch(`${br.url}/repo/faulty/api/v1/crates/shaky/1.0.0/download`, { method: 'HEAD' });
    assert.notEqual(res.headers.get('x-cache'), 'HIT', 'the damaged crate is not in the cache');
    broken.delete('shaky');
    const ok = await fetchIt(2);
    assert.equal(ok.code, 0, ok.out);
  });

  it('an index file larger than a document holds inline is stored as a blob and served byte for byte, cold and warm', async () => {
    const url = `${br.url}/repo/faulty/index/${indexPathOf('huge')}`;
    assert.ok(bigIndex.length > 256 << 10);
    const cold = await fetch(url);
    assert.equal(cold.headers.get('x-cache'), 'MISS');
    assert.equal(await cold.text(), bigIndex);
    const warm = await fetch(url, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(warm.headers.get('x-cache'), 'HIT');
    assert.equal(await warm.text(), bigIndex);
    assert.equal(calls.get(`/${indexPathOf('huge')}`), 1);
  });

  it('8 concurrent cargo fetch runs with empty caches: one upstream GET per crate and per index file', async () => {
    const deps = Array.from({ length: 20 }, (_, i) => `dep-${i} = "1"`);
    const runs = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const dir = join(work.path, `app-${i}`);
        await writeApp(dir, `app-${i}`, deps);
        return cargo(['fetch'], { cwd: dir, home: await cargoHome(join(work.path, `home-${i}`), `${br.url}/repo/crates/index/`) });
      }),
    );
    for (const r of runs) assert.equal(r.code, 0, r.out);
    for (let i = 0; i < 20; i++) {
      assert.equal(relay.requests.get(`GET /crates/dep-${i}/dep-${i}-1.0.0.crate`), 1, `dep-${i} crate`);
      assert.equal(relay.requests.get(`GET /index/${indexPathOf(`dep-${i}`)}`), 1, `dep-${i} index`);
    }
  });

  it('a crate name the upstream lacks is remembered across restarts: the next process does not ask again', async () => {
    const data = await tempDir('cargo-neg-');
    const config = { repos: [{ name: 'neg', format: 'cargo', type: 'remote', upstream: { url: fake.url }, cache: { negativeTtlSeconds: 3600 } }] };
    const path = `/${indexPathOf('absent-crate')}`;
    try {
      const first = await startServer({ config, dataDir: data.path });
      assert.equal((await fetch(`${first.url}/repo/neg/index${path}`)).status, 404);
      assert.equal(calls.get(path), 1);
      // Written within the write interval (2 s): wait for the document, not for a time.
      const doc = join(data.path, 'v1', 'repos', 'neg', 'cargo', 'negative');
      const deadline = Date.now() + 15_000;
      while (!(await readFile(doc, 'utf8').catch(() => '')).includes('absent-crate')) {
        if (Date.now() > deadline) throw new Error('the negative cache was never written');
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.close();
      const second = await startServer({ config, dataDir: data.path });
      try {
        const r = await fetch(`${second.url}/repo/neg/index${path}`);
        assert.equal(r.status, 404);
        assert.match(await r.text(), /cached upstream answer/);
        assert.equal(calls.get(path), 1, 'the restarted server did not ask again');
      } finally {
        await second.close();
      }
    } finally {
      await data.cleanup();
    }
  });
});
