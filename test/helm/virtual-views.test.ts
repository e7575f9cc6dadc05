import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { tarGz } from '../helpers/helm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const chart = (name: string, version: string): Promise<Uint8Array> => tarGz([{ name: `${name}/Chart.yaml`, data: `apiVersion: v2\nname: ${name}\nversion: ${version}\n` }]);

// Issue 24, 22: a reader without read on one member of a Helm virtual got the merged index merged
// and rendered again on every request (1.2–1.5 s each for a 45 MB index). Each member set's view is
// now kept with its rendered index: the same bytes (its `generated` time included) until a member changes.
describe('Helm virtual: the index of a restricted view is kept', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'open', format: 'helm', type: 'local', permissions: { read: ['reader', 'writer'], write: ['writer'] } },
          { name: 'closed', format: 'helm', type: 'local', permissions: { read: ['writer'], write: ['writer'] } },
          { name: 'all', format: 'helm', type: 'virtual', members: ['open', 'closed'], permissions: { read: ['reader', 'writer'] } },
        ],
      },
    });
    for (const [repo, name] of [['open', 'web'], ['closed', 'secret']] as const) {
      const r = await fetch(`${br.url}/repo/${repo}/api/charts`, { method: 'POST', body: await chart(name, '1.0.0'), headers: { authorization: basic('writer') } });
      assert.equal(r.status, 201, await r.text());
    }
  });
  after(() => br?.close());

  it('a reader of one member gets only its charts, rendered once until it changes', async () => {
    const get = async () => {
      const r = await fetch(`${br.url}/repo/all/index.yaml`, { headers: { authorization: basic('reader') } });
      assert.equal(r.status, 200);
      return { etag: r.headers.get('etag'), text: await r.text() };
    };
    const a = await get();
    assert.match(a.text, /web/);
    assert.doesNotMatch(a.text, /secret/, 'the unreadable member is left out');
    const b = await get();
    assert.equal(b.text, a.text, 'the same rendering, not a new one per request');
    assert.equal(b.etag, a.etag);
    const up = await fetch(`${br.url}/repo/open/api/charts`, { method: 'POST', body: await chart('web', '1.1.0'), headers: { authorization: basic('writer') } });
    assert.equal(up.status, 201);
    const c = await get();
    assert.match(c.text, /1\.1\.0/, 'a member change shows at once');
    const writer = await (await fetch(`${br.url}/repo/all/index.yaml`, { headers: { authorization: basic('writer') } })).text();
    assert.match(writer, /secret/);
  });
});
