import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { zipStored } from '../helpers/gomod.ts';
import { tarGz } from '../helpers/helm.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { freePort } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 23 (the kit): one rule for a virtual repo's "try the next member", every format. Each
// virtual here lists a remote whose upstream is down FIRST, then a local member: what the local one
// holds is still served (Docker used to answer with the remote's failure at once), and what no
// member holds is the remote's failure (502/503), never a 404.
describe('virtual repos: one rule for trying the next member', () => {
  let br: TestServer;
  before(async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const up = { url: down, breakerFailures: 1000, headersTimeoutSeconds: 2 };
    br = await startServer({
      config: {
        repos: [
          { name: 'd-remote', format: 'docker', type: 'remote', upstream: up },
          { name: 'd-local', format: 'docker', type: 'local' },
          { name: 'd', format: 'docker', type: 'virtual', members: ['d-remote', 'd-local'] },
          { name: 'g-remote', format: 'generic', type: 'remote', upstream: up },
          { name: 'g-local', format: 'generic', type: 'local' },
          { name: 'g', format: 'generic', type: 'virtual', members: ['g-remote', 'g-local'] },
          { name: 'go-remote', format: 'go', type: 'remote', upstream: up, sumdb: [] },
          { name: 'go-local', format: 'go', type: 'local' },
          { name: 'go', format: 'go', type: 'virtual', members: ['go-remote', 'go-local'] },
          { name: 'h-remote', format: 'helm', type: 'remote', upstream: up },
          { name: 'h-local', format: 'helm', type: 'local' },
          { name: 'h', format: 'helm', type: 'virtual', members: ['h-remote', 'h-local'] },
        ],
      },
    });
    await pushImage(`${br.url}/repo/d-local`, 'team/app', '1', await makeImage({ layerSizes: [500] }));
    assert.equal((await fetch(`${br.url}/repo/g-local/a.txt`, { method: 'PUT', body: 'a' })).status, 201);
    const zip = zipStored([{ name: 'corp.example/m@v1.0.0/go.mod', data: new TextEncoder().encode('module corp.example/m\n') }]);
    assert.equal((await fetch(`${br.url}/repo/go-local/corp.example/m/@v/v1.0.0.zip`, { method: 'PUT', body: zip })).status, 201);
    assert.equal((await fetch(`${br.url}/repo/h-local/api/charts`, { method: 'POST', body: await tarGz([{ name: 'c/Chart.yaml', data: 'apiVersion: v2\nname: c\nversion: 1.0.0\n' }]) })).status, 201);
  });
  after(() => br?.close());

  const cases: Array<[string, string, string]> = [
    ['Docker', '/repo/d/v2/team/app/manifests/1', '/repo/d/v2/team/other/manifests/1'],
    ['generic', '/repo/g/a.txt', '/repo/g/missing.txt'],
    ['Go', '/repo/go/corp.example/m/@v/v1.0.0.zip', '/repo/go/corp.example/other/@v/v1.0.0.zip'],
    ['Helm', '/repo/h/charts/c-1.0.0.tgz', '/repo/h/charts/d-1.0.0.tgz'],
  ];
  for (const [format, held, missing] of cases) {
    it(`${format}: the local member's content past a remote that is down; the rest is the remote's failure`, async () => {
      const a = await fetch(`${br.url}${held}`);
      await a.arrayBuffer();
      assert.equal(a.status, 200, `${held}`);
      const b = await fetch(`${br.url}${missing}`);
      const text = await b.text();
      assert.ok(b.status === 502 || b.status === 503, `${missing}: ${b.status} ${text}`);
    });
  }
});
