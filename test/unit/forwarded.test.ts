import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { clientOrigin } from '../../src/http/forwarded.ts';
import { authConfig } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const req = (headers: Record<string, string>): Request => new Request('http://10.0.0.1:8081/v2/', { headers });

// Issue 24, 31: X-Forwarded-* was read in five places with three behaviours (one split the comma
// list, another did not). One function, one rule: http.trustProxy.
describe('the origin clients used', () => {
  it('trusting the proxy: the first value of each header', () => {
    assert.deepEqual(clientOrigin(req({ 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'registry.example.com, internal:8081', host: '10.0.0.1:8081' }), true), { proto: 'https', host: 'registry.example.com', origin: 'https://registry.example.com' });
    assert.equal(clientOrigin(req({ host: 'h:1' }), true).origin, 'http://h:1');
    assert.equal(clientOrigin(req({ 'x-forwarded-proto': 'gopher', host: 'h' }), true).proto, 'http', 'only http or https');
  });
  it('not trusting it: the headers change nothing', () => {
    assert.equal(clientOrigin(req({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', host: '10.0.0.1:8081' }), false).origin, 'http://10.0.0.1:8081');
  });

  for (const trustProxy of [true, false]) {
    describe(`the token realm with http.trustProxy ${trustProxy}`, () => {
      let br: TestServer;
      before(async () => {
        br = await startServer({ config: { http: { trustProxy }, auth: await authConfig(), repos: [{ name: 'dl', format: 'docker', type: 'local' }] } });
      });
      after(() => br?.close());
      it('names the origin the rule gives', async () => {
        const res = await fetch(`${br.url}/repo/dl/v2/app/tags/list`, { headers: { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'registry.example.com, x' } });
        await res.body?.cancel();
        assert.equal(res.status, 401);
        const realm = /realm="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')?.[1];
        assert.equal(realm, trustProxy ? 'https://registry.example.com/repo/dl/token' : `${br.url}/repo/dl/token`);
      });
    });
  }
});
