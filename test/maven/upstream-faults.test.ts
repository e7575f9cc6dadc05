import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { listenLoopback } from '../helpers/listen.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const META = '<?xml version="1.0"?><metadata><groupId>org.f</groupId><artifactId>m</artifactId><versioning><latest>1.0</latest><release>1.0</release><versions><version>1.0</version></versions><lastUpdated>20261201000000</lastUpdated></versioning></metadata>';

// Issue 27: a Maven remote against a fault-injecting upstream (a small Hono app with call counters).
describe('Maven remote against a faulty upstream', () => {
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  let br: TestServer;
  let clock = Date.now();
  const calls = new Map<string, number>();
  const state = { metadata: 'ok' as 'ok' | 'xxe' | '429', retryAfter: '120' };
  const n = (path: string): number => calls.get(path) ?? 0;
  const get = (path: string): Promise<Response> => fetch(`${br.url}/repo/m2${path}`);

  before(async () => {
    const app = new Hono();
    app.use('*', async (c, next) => {
      const p = new URL(c.req.url).pathname;
      calls.set(p, (calls.get(p) ?? 0) + 1);
      await next();
    });
    // A jar whose published .sha1 is of other bytes (a corrupted mirror).
    app.get('/org/f/bad/1.0/bad-1.0.jar', (c) => c.body('tampered bytes'));
    app.get('/org/f/bad/1.0/bad-1.0.jar.sha1', (c) => c.text(sha1('the real bytes')));
    app.get('/org/f/good/1.0/good-1.0.jar', (c) => c.body('good bytes'));
    // A jar its upstream publishes no .sha1 for.
    app.get('/org/f/nosum/1.0/nosum-1.0.jar', (c) => c.body('unsummed bytes'));
    app.get('/org/f/good/1.0/good-1.0.jar.sha1', (c) => c.text(`${sha1('good bytes')}  good-1.0.jar`));
    app.get('/org/f/m/maven-metadata.xml', (c) => {
      if (state.metadata === '429') return c.text('slow down', 429, { 'retry-after': state.retryAfter });
      if (state.metadata === 'xxe') return c.body(`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><metadata><groupId>&x;</groupId></metadata>`);
      return c.body(META);
    });
    app.get('/org/f/huge/maven-metadata.xml', (c) => c.body(`<metadata>${'<x/>'.repeat(600_000)}</metadata>`));
    up = await listenLoopback(app.fetch);
    br = await startServer({
      config: {
        repos: [
          { name: 'm2', format: 'maven', type: 'remote', upstream: { url: up.url, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 60 }, maxMetadataBytes: 1 << 20 },
          { name: 'm2strict', format: 'maven', type: 'remote', upstream: { url: up.url, breakerFailures: 1000 }, checksumPolicy: 'strict' },
        ],
      },
      now: () => clock,
    });
  });

  after(() => closeAll(() => br?.close(), () => up?.close()));

  it('a file whose upstream .sha1 does not match is refused (502) and never cached: the next request asks again', async () => {
    // The answer never completes (its status went out before the last byte was checked), and each
    // request costs two upstream GETs: a body survives one failed fill by going on with a fresh one.
    for (let i = 0; i < 2; i++) {
      const before = n('/org/f/bad/1.0/bad-1.0.jar');
      await assert.rejects(get('/org/f/bad/1.0/bad-1.0.jar').then((r) => r.arrayBuffer()));
      await br.server.fills.idle();
      assert.equal(n('/org/f/bad/1.0/bad-1.0.jar'), before + 2, 'nothing was linked: the next client fetched again');
    }
    const ok = await get('/org/f/good/1.0/good-1.0.jar');
    assert.equal(await ok.text(), 'good bytes');
    const hit = await get('/org/f/good/1.0/good-1.0.jar');
    assert.equal(hit.headers.get('x-cache'), 'HIT');
    assert.equal(await hit.text(), 'good bytes');
    assert.equal(n('/org/f/good/1.0/good-1.0.jar'), 1);
  });

  // Issue 27: the "generate if absent" rule was the only one; checksumPolicy: strict refuses instead.
  it('a file with no upstream .sha1: cached with our checksums by default, refused (502, nothing kept) with checksumPolicy strict', async () => {
    const path = '/org/f/nosum/1.0/nosum-1.0.jar';
    for (let i = 0; i < 2; i++) {
      const before = n(path);
      const r = await fetch(`${br.url}/repo/m2strict${path}`);
      assert.equal(r.status, 502);
      assert.match(await r.text(), /publishes no \.sha1 .*checksumPolicy is strict/);
      await br.server.fills.idle();
      assert.equal(n(path), before + 1, 'refused before a byte went out, and nothing kept: the next request asks again');
    }
    const ok = await get(path);
    assert.equal(await ok.text(), 'unsummed bytes');
    const hit = await get(`${path}.sha1`);
    assert.equal(await hit.text(), sha1('unsummed bytes'), 'the default policy serves the checksum it computed');
  });

  it('metadata with a DOCTYPE (XXE) is refused with 502 and not stored; entities are never expanded', async () => {
    state.metadata = 'xxe';
    const r = await get('/org/f/m/maven-metadata.xml');
    assert.equal(r.status, 502);
    assert.match(await r.text(), /DOCTYPE/);
    state.metadata = 'ok';
    clock += 2000; // past the remembered failure (min(TTL, 30 s), at least 1 s)
    clock += 30_000;
    const ok = await get('/org/f/m/maven-metadata.xml');
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-cache'), 'MISS', 'nothing from the refused answer was kept');
    assert.equal(await ok.text(), META);
  });

  it('429 with Retry-After: the stored metadata is served STALE and the upstream is not asked again before Retry-After', async () => {
    state.metadata = '429';
    clock += 61_000; // past the TTL
    const before = n('/org/f/m/maven-metadata.xml');
    for (let i = 0; i < 5; i++) {
      const r = await get('/org/f/m/maven-metadata.xml');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-cache'), 'STALE');
      assert.equal(await r.text(), META);
    }
    assert.equal(n('/org/f/m/maven-metadata.xml') - before, 1);
    clock += 60_000; // past the default 30 s failure memory, within Retry-After (120 s)
    await (await get('/org/f/m/maven-metadata.xml')).text();
    assert.equal(n('/org/f/m/maven-metadata.xml') - before, 1, 'Retry-After was honoured');
    clock += 70_000;
    state.metadata = 'ok';
    const fresh = await get('/org/f/m/maven-metadata.xml');
    assert.equal(fresh.headers.get('x-cache'), 'REVALIDATED');
    assert.equal(n('/org/f/m/maven-metadata.xml') - before, 2);
  });

  it('metadata past maxMetadataBytes is a 502, not a buffer', async () => {
    const r = await get('/org/f/huge/maven-metadata.xml');
    assert.equal(r.status, 502);
    assert.match(await r.text(), /larger than/);
  });

  it('the negative cache is kept across restarts: a path the upstream lacks is not asked again by the next process', async () => {
    const data = await tempDir('maven-neg-');
    const config = { repos: [{ name: 'm2n', format: 'maven', type: 'remote', upstream: { url: up.url }, cache: { negativeTtlSeconds: 3600 } }] };
    const path = '/org/f/absent/1.0/absent-1.0.jar';
    try {
      const first = await startServer({ config, dataDir: data.path, now: () => clock });
      assert.equal((await fetch(`${first.url}/repo/m2n${path}`)).status, 404);
      assert.equal(n(path), 1);
      // Written within the write interval (2 s): wait for the document, not for a time.
      const doc = join(data.path, 'v1', 'repos', 'm2n', 'maven', 'negative');
      const deadline = Date.now() + 15_000;
      while (!(await readFile(doc, 'utf8').catch(() => '')).includes('absent-1.0.jar')) {
        if (Date.now() > deadline) throw new Error('the negative cache was never written');
        await new Promise((r) => setTimeout(r, 50));
      }
      await first.close();
      const second = await startServer({ config, dataDir: data.path, now: () => clock });
      try {
        const r = await fetch(`${second.url}/repo/m2n${path}`);
        assert.equal(r.status, 404);
        assert.match(await r.text(), /cached upstream answer/);
        assert.equal(n(path), 1, 'the restarted server did not ask again');
        clock += 3601_000;
        assert.equal((await fetch(`${second.url}/repo/m2n${path}`)).status, 404);
        assert.equal(n(path), 2, 'past its TTL the path is asked again');
      } finally {
        await second.close();
      }
    } finally {
      await data.cleanup();
    }
  });
});

