import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { zipStored } from '../helpers/gomod.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const enc = new TextEncoder();

// Issue 24, 26: a Go remote cached a non-JSON .info and a zip cut short for good, and answered an
// upstream @v/list over 4 MiB with 413 (as if the client had sent too much).
describe('Go remote: malformed upstream files are not kept', () => {
  let br: TestServer;
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  const calls = new Map<string, number>();
  let healthy = false;

  before(async () => {
    const zip = zipStored([{ name: 'example.com/cut@v1.0.0/go.mod', data: enc.encode('module example.com/cut\n') }, { name: 'example.com/cut@v1.0.0/a.go', data: enc.encode('package cut\n'.repeat(200)) }]);
    const app = new Hono();
    app.use('*', async (c, next) => {
      calls.set(c.req.path, (calls.get(c.req.path) ?? 0) + 1);
      await next();
    });
    app.get('/example.com/bad/@v/v1.0.0.info', () => new Response(healthy ? '{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}' : '<html>captive portal</html>'));
    app.get('/example.com/cut/@v/v1.0.0.zip', () => new Response(healthy ? zip : zip.slice(0, Math.floor(zip.byteLength / 2))));
    app.get('/example.com/huge/@v/list', () => new Response(`${'v1.0.0\n'.repeat((5 << 20) / 7)}`));
    up = await listenLoopback(app.fetch);
    br = await startServer({ config: { repos: [{ name: 'gomod', format: 'go', type: 'remote', upstream: { url: up.url } }] } });
  });
  after(async () => {
    await br?.close();
    await up?.close();
  });

  it('a .info that is no JSON and a zip cut short are passed on once, then fetched again', async () => {
    for (const path of ['/example.com/bad/@v/v1.0.0.info', '/example.com/cut/@v/v1.0.0.zip']) {
      const first = await fetch(`${br.url}/repo/gomod${path}`);
      await first.arrayBuffer();
      await br.server.fills.idle();
      const second = await fetch(`${br.url}/repo/gomod${path}`);
      await second.arrayBuffer();
      await br.server.fills.idle();
      assert.equal(calls.get(path), 2, `${path}: not cached`);
    }
    healthy = true;
    for (const path of ['/example.com/bad/@v/v1.0.0.info', '/example.com/cut/@v/v1.0.0.zip']) {
      for (let i = 0; i < 2; i++) {
        const r = await fetch(`${br.url}/repo/gomod${path}`);
        assert.equal(r.status, 200);
        await r.arrayBuffer();
        await br.server.fills.idle();
      }
      assert.equal(calls.get(path), 3, `${path}: the good one is kept`);
    }
  });

  it('an upstream list over 4 MiB is the upstream\'s fault: 502 with the reason', async () => {
    const r = await fetch(`${br.url}/repo/gomod/example.com/huge/@v/list`);
    const text = await r.text();
    assert.equal(r.status, 502, text);
    assert.match(text, /over 4194304 bytes/);
  });
});
