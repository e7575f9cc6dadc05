import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { listenLoopback } from '../helpers/listen.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 24, 17: a generic upstream's redirect and a Helm index's absolute chart URL were followed to
// any address, so an internal service's body came back to an anonymous client. With
// upstream.allowHosts only the listed hosts are followed (the unit test covers the default rule for
// public upstreams, which a loopback-only test cannot stand in for).
describe('upstream redirects and absolute URLs go only where allowed', () => {
  let br: TestServer;
  let internal: Awaited<ReturnType<typeof listenLoopback>>;
  let up: Awaited<ReturnType<typeof listenLoopback>>;
  let internalHits = 0;

  before(async () => {
    const secret = new Hono();
    secret.all('*', () => {
      internalHits++;
      return new Response('internal secret');
    });
    internal = await listenLoopback(secret.fetch);
    const app = new Hono();
    app.get('/files/away.txt', () => new Response(null, { status: 302, headers: { location: `${internal.url}/latest/meta-data` } }));
    app.get('/charts/index.yaml', () =>
      new Response(`apiVersion: v1\nentries:\n  app:\n  - name: app\n    version: 1.0.0\n    urls:\n    - ${internal.url}/app-1.0.0.tgz\ngenerated: "2026-01-01T00:00:00Z"\n`),
    );
    up = await listenLoopback(app.fetch);
    const allowHosts = ['cdn.example.com'];
    br = await startServer({
      config: {
        repos: [
          { name: 'dl', format: 'generic', type: 'remote', upstream: { url: `${up.url}/files`, allowHosts } },
          { name: 'charts', format: 'helm', type: 'remote', upstream: { url: `${up.url}/charts`, allowHosts } },
        ],
      },
    });
  });
  after(async () => {
    await br?.close();
    await up?.close();
    await internal?.close();
  });

  it('a generic upstream redirecting to an unlisted host: 502 naming it, the host never asked', async () => {
    const res = await fetch(`${br.url}/repo/dl/away.txt`);
    const text = await res.text();
    assert.equal(res.status, 502, text);
    assert.match(text, /not in upstream\.allowHosts/);
    assert.doesNotMatch(text, /internal secret/);
    assert.equal(internalHits, 0);
  });

  it('a Helm index pointing a chart at an unlisted host: the chart is refused, the host never asked', async () => {
    const index = await (await fetch(`${br.url}/repo/charts/index.yaml`)).text();
    assert.match(index, /charts\/app-1\.0\.0\.tgz/);
    const res = await fetch(`${br.url}/repo/charts/charts/app-1.0.0.tgz`);
    const text = await res.text();
    assert.equal(res.status, 502, text);
    assert.match(text, /not in upstream\.allowHosts/);
    assert.equal(internalHits, 0);
  });
});
