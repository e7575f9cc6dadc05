import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import type { RegistryEvent } from '../../src/notify.ts';
import { authConfig, basic } from '../helpers/auth.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { freePort } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

interface Received {
  path: string;
  contentType: string | null;
  authorization: string | null;
  events: RegistryEvent[];
}

// Webhooks in the CNCF registry's notification format, delivered to a small receiver (a Hono app
// that records what it gets and can refuse on demand).
describe('notifications (webhooks)', () => {
  let srv: TestServer;
  let receiver: { url: string; close: () => Promise<void> };
  const got: Received[] = [];
  let refuse = 0;
  let attempts = 0;

  before(async () => {
    const app = new Hono();
    app.post('/:hook', async (c) => {
      attempts++;
      if (refuse > 0) {
        refuse--;
        return c.text('busy', 503);
      }
      const body = (await c.req.json()) as { events: RegistryEvent[] };
      got.push({ path: c.req.param('hook'), contentType: c.req.header('content-type') ?? null, authorization: c.req.header('authorization') ?? null, events: body.events });
      return c.text('ok');
    });
    receiver = await listenLoopback(app.fetch);
    srv = await startServer({
      config: {
        auth: await authConfig(),
        notifications: {
          endpoints: [
            { name: 'all', url: `${receiver.url}/all`, headers: { authorization: 'Bearer hook-secret' }, backoffSeconds: 0.05, actions: ['push', 'pull', 'delete'] },
            { name: 'pushes-to-a', url: `${receiver.url}/a`, repos: ['a'] },
            { name: 'dead', url: `http://127.0.0.1:${await freePort()}/x`, maxQueue: 2, backoffSeconds: 60, timeoutSeconds: 1 },
          ],
        },
        repos: [
          { name: 'a', format: 'docker', type: 'local', permissions: { read: ['reader'], write: ['writer'], delete: ['writer'] } },
          { name: 'b', format: 'docker', type: 'local', permissions: { read: ['reader'], write: ['writer'] } },
        ],
      },
    });
  });
  after(async () => {
    srv?.server.notifier.stop();
    await srv?.close();
    await receiver?.close();
  });

  const events = (path: string): RegistryEvent[] => got.filter((g) => g.path === path).flatMap((g) => g.events);
  const until = async (what: () => boolean, label: string): Promise<void> => {
    for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(what(), `timed out waiting for ${label}`);
  };

  it('a push, a pull and a delete arrive as distribution events, with the actor and the endpoint headers', async () => {
    const img = await makeImage({ layerSizes: [1000] });
    await pushImage(`${srv.url}/repo/a`, 'app', 'v1', img, { authorization: basic('writer') });
    const pulled = await fetch(`${srv.url}/repo/a/v2/app/manifests/v1`, { headers: { authorization: basic('reader') } });
    assert.equal(pulled.status, 200);
    await pulled.arrayBuffer();
    assert.equal((await fetch(`${srv.url}/repo/a/v2/app/manifests/v1`, { method: 'HEAD', headers: { authorization: basic('reader') } })).status, 200);
    assert.equal((await fetch(`${srv.url}/repo/a/v2/app/manifests/v1`, { method: 'DELETE', headers: { authorization: basic('writer') } })).status, 202);
    await until(() => events('all').length >= 3, 'three events');
    const [push, pull, del] = events('all');
    assert.equal(events('all').length, 3, 'HEAD is not a pull event');
    assert.equal(got[0]?.contentType, 'application/vnd.docker.distribution.events.v1+json');
    assert.equal(got[0]?.authorization, 'Bearer hook-secret');
    assert.deepEqual(
      { action: push?.action, repo: push?.repo, repository: push?.target.repository, tag: push?.target.tag, digest: push?.target.digest, size: push?.target.size, length: push?.target.length, mediaType: push?.target.mediaType, actor: push?.actor.name, method: push?.request.method },
      { action: 'push', repo: 'a', repository: 'app', tag: 'v1', digest: img.manifest.digest, size: img.manifest.bytes.byteLength, length: img.manifest.bytes.byteLength, mediaType: img.manifest.mediaType, actor: 'writer', method: 'PUT' },
    );
    assert.match(push?.target.url ?? '', new RegExp(`/repo/a/v2/app/manifests/${img.manifest.digest}$`));
    assert.ok(push?.id && push.timestamp && push.source.instanceID);
    assert.deepEqual([pull?.action, pull?.actor.name, pull?.target.digest], ['pull', 'reader', img.manifest.digest]);
    assert.deepEqual([del?.action, del?.target.tag, del?.actor.name], ['delete', 'v1', 'writer']);
    await until(() => events('a').length >= 2, 'the filtered endpoint');
    assert.deepEqual(events('a').map((e) => e.action), ['push', 'delete'], 'default actions: push and delete, no pulls');
  });

  it('retries with backoff while the endpoint refuses, in order, and counts what it did', async () => {
    const before = events('all').length;
    refuse = 2;
    const tries = attempts;
    for (const tag of ['r1', 'r2']) await pushImage(`${srv.url}/repo/b`, 'svc', tag, await makeImage({ layerSizes: [500] }), { authorization: basic('writer') });
    await until(() => events('all').length >= before + 2, 'delivery after the refusals');
    assert.ok(attempts - tries >= 3, `attempts ${attempts - tries}`);
    assert.deepEqual(events('all').slice(before).map((e) => e.target.tag), ['r1', 'r2']);
    assert.deepEqual(events('a').filter((e) => e.repo === 'b'), [], 'repo filter: nothing of b reaches pushes-to-a');
    const metrics = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: basic('boss') } })).text();
    assert.match(metrics, /binaryrepo_notifications_total\{endpoint="all",result="failed"\} [1-9]/);
    assert.match(metrics, /binaryrepo_notifications_total\{endpoint="all",result="delivered"\} [1-9]/);
  });

  it('an endpoint that stays down keeps at most maxQueue events and counts the dropped ones', async () => {
    const metrics = await (await fetch(`${srv.url}/metrics`, { headers: { authorization: basic('boss') } })).text();
    const dropped = Number(/binaryrepo_notifications_total\{endpoint="dead",result="dropped"\} (\d+)/.exec(metrics)?.[1] ?? '0');
    // Three pushes and a delete so far (its actions: push, delete): it holds the newest two.
    assert.equal(dropped, 2);
  });
});
