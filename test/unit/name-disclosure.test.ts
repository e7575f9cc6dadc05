import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic, token } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 24, 25: names were disclosed: unauthenticated /metrics listed every repo, /ui/ and
// /api/v1/repos listed a virtual's unreadable members, and an unreadable repo answered 401 where an
// unknown one answered 404 (anonymous callers now get 401 for both, logged-in users 404 for both).
describe('repo names are not disclosed to those who may not read them', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'open', format: 'generic', type: 'local', permissions: { read: ['reader', 'writer'], write: ['writer'] } },
          { name: 'secret-plans', format: 'generic', type: 'local', permissions: { read: ['writer'], write: ['writer'] } },
          { name: 'all', format: 'generic', type: 'virtual', members: ['open', 'secret-plans'], permissions: { read: ['reader', 'writer'] } },
          { name: 'secret-images', format: 'docker', type: 'local', permissions: { read: ['writer'], write: ['writer'] } },
        ],
      },
    });
    assert.equal((await fetch(`${br.url}/repo/secret-plans/x.txt`, { method: 'PUT', body: 'x', headers: { authorization: basic('writer') } })).status, 201);
  });
  after(() => br?.close());

  it('/metrics asks for an admin; an admin gets it', async () => {
    const anon = await fetch(`${br.url}/metrics`);
    assert.equal(anon.status, 401);
    assert.doesNotMatch(await anon.text(), /secret-plans/);
    assert.equal((await fetch(`${br.url}/metrics`, { headers: { authorization: basic('reader') } })).status, 403);
    const admin = await fetch(`${br.url}/metrics`, { headers: { authorization: basic('boss') } });
    assert.equal(admin.status, 200);
    assert.match(await admin.text(), /repo="secret-plans"/);
  });

  it('a virtual repo lists only the members its reader may read, in the API and the UI', async () => {
    const api = (await (await fetch(`${br.url}/api/v1/repos/all`, { headers: { authorization: basic('reader') } })).json()) as { members: string[] };
    assert.deepEqual(api.members, ['open']);
    const list = await (await fetch(`${br.url}/api/v1/repos`, { headers: { authorization: basic('reader') } })).text();
    assert.doesNotMatch(list, /secret-plans/);
    const writer = (await (await fetch(`${br.url}/api/v1/repos/all`, { headers: { authorization: basic('writer') } })).json()) as { members: string[] };
    assert.deepEqual(writer.members, ['open', 'secret-plans']);
  });

  it('an anonymous caller gets the same answer for an unreadable repo and an unknown one', async () => {
    const hidden = await fetch(`${br.url}/repo/secret-plans/x.txt`);
    const unknown = await fetch(`${br.url}/repo/no-such-repo/x.txt`);
    assert.equal(hidden.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(unknown.headers.get('www-authenticate'), hidden.headers.get('www-authenticate'));
    const v2hidden = await fetch(`${br.url}/v2/secret-plans/x/manifests/1`);
    const v2unknown = await fetch(`${br.url}/v2/no-such-repo/x/manifests/1`);
    assert.equal(v2unknown.status, v2hidden.status);
  });

  it('a logged-in user who may not read a repo gets the not-found an unknown name gets, on every path', async () => {
    const auth = { authorization: basic('reader') };
    for (const [hiddenPath, unknownPath] of [
      ['/repo/secret-plans/x.txt', '/repo/no-such-repo/x.txt'],
      ['/repo/secret-plans/x.txt?list', '/repo/no-such-repo/x.txt?list'],
      ['/v2/secret-images/x/manifests/1', '/v2/no-such-repo/x/manifests/1'],
      ['/repo/secret-images/v2/x/tags/list', '/repo/no-such-repo/v2/x/tags/list'],
    ] as const) {
      const hidden = await fetch(`${br.url}${hiddenPath}`, { headers: auth });
      const unknown = await fetch(`${br.url}${unknownPath}`, { headers: auth });
      assert.equal(hidden.status, 404, hiddenPath);
      assert.equal(unknown.status, 404, unknownPath);
      const [h, u] = [await hidden.text(), await unknown.text()];
      assert.match(h, /no repository named secret-(plans|images)/, h);
      assert.doesNotMatch(h, /may not|reader/, 'nothing says the repo is there');
      assert.ok(u.length > 0);
    }
    // A write by that user too: the repo is not there for them.
    assert.equal((await fetch(`${br.url}/repo/secret-plans/y.txt`, { method: 'PUT', body: 'y', headers: auth })).status, 404);
    // One who may read but not write still hears 403: they know the repo.
    assert.equal((await fetch(`${br.url}/repo/open/y.txt`, { method: 'PUT', body: 'y', headers: auth })).status, 403);
  });
});

describe('metrics.access: authenticated', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { auth: await authConfig(), metrics: { access: 'authenticated' }, repos: [{ name: 'dl', format: 'docker', type: 'local' }] } });
  });
  after(() => br?.close());

  it('any logged-in user reads /metrics; anonymous callers and registry tokens do not', async () => {
    assert.equal((await fetch(`${br.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${br.url}/metrics`, { headers: { authorization: basic('reader') } })).status, 200);
    const jwt = await token(`${br.url}/token`, 'repository:dl/app:pull', 'reader');
    assert.equal((await fetch(`${br.url}/metrics`, { headers: { authorization: `Bearer ${jwt}` } })).status, 403);
  });
});
