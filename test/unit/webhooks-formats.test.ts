import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import type { RegistryEvent } from '../../src/notify.ts';
import { zipStored } from '../helpers/gomod.ts';
import { tarGz } from '../helpers/helm.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { listenLoopback } from '../helpers/listen.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 23 (a neutral core): webhooks for every format's publish and delete, in the one envelope
// with a `format` field. Only Docker emitted events before.
describe('webhooks for every format', () => {
  let br: TestServer;
  let receiver: Awaited<ReturnType<typeof listenLoopback>>;
  const events: RegistryEvent[] = [];
  before(async () => {
    const app = new Hono();
    app.post('/hook', async (c) => {
      events.push(...((await c.req.json()) as { events: RegistryEvent[] }).events);
      return c.text('ok');
    });
    receiver = await listenLoopback(app.fetch);
    br = await startServer({
      config: {
        notifications: { endpoints: [{ name: 'all', url: `${receiver.url}/hook`, backoffSeconds: 0.05 }] },
        repos: [
          { name: 'dl', format: 'docker', type: 'local' },
          { name: 'files', format: 'generic', type: 'local' },
          { name: 'gol', format: 'go', type: 'local' },
          { name: 'charts', format: 'helm', type: 'local' },
        ],
      },
    });
  });
  after(async () => {
    br?.server.notifier.stop();
    await br?.close();
    await receiver?.close();
  });

  it('pushes and deletes of Docker, generic, Go and Helm reach the endpoint with their format', async () => {
    await pushImage(`${br.url}/repo/dl`, 'app', '1', await makeImage({ layerSizes: [300] }));
    assert.equal((await fetch(`${br.url}/repo/files/tools/a.txt`, { method: 'PUT', body: 'a' })).status, 201);
    assert.equal((await fetch(`${br.url}/repo/files/tools/a.txt`, { method: 'DELETE' })).status, 204);
    const zip = zipStored([{ name: 'corp.example/m@v1.0.0/go.mod', data: new TextEncoder().encode('module corp.example/m\n') }]);
    assert.equal((await fetch(`${br.url}/repo/gol/corp.example/m/@v/v1.0.0.zip`, { method: 'PUT', body: zip })).status, 201);
    assert.equal((await fetch(`${br.url}/repo/charts/api/charts`, { method: 'POST', body: await tarGz([{ name: 'web/Chart.yaml', data: 'apiVersion: v2\nname: web\nversion: 1.0.0\n' }]) })).status, 201);
    assert.equal((await fetch(`${br.url}/repo/charts/api/charts/web/1.0.0`, { method: 'DELETE' })).status, 200);
    await br.server.notifier.drained();
    const seen = events.map((e) => [e.format, e.action, e.repo, e.target.repository, e.target.tag ?? '']);
    for (const want of [
      ['docker', 'push', 'dl', 'app', '1'],
      ['generic', 'push', 'files', 'tools/a.txt', ''],
      ['generic', 'delete', 'files', 'tools/a.txt', ''],
      ['go', 'push', 'gol', 'corp.example/m', 'v1.0.0'],
      ['helm', 'push', 'charts', 'web', '1.0.0'],
      ['helm', 'delete', 'charts', 'web', '1.0.0'],
    ]) {
      assert.ok(seen.some((s) => JSON.stringify(s) === JSON.stringify(want)), `${want.join(' ')} in ${JSON.stringify(seen)}`);
    }
    const file = events.find((e) => e.format === 'generic' && e.action === 'push');
    assert.equal(file?.target.url, `${br.url}/repo/files/tools/a.txt`);
    assert.equal(file?.target.size, 1);
  });
});
