import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.ts';
import { validateConfig } from '../../src/config/load.ts';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

interface TokenAnswer {
  token?: string;
  access_token?: string;
  refresh_token?: string;
  error?: string;
}

// Refresh (offline, identity) tokens of the token spec: `docker login` keeps one instead of the
// password; containerd trades it for access tokens with the refresh_token grant.
describe('refresh tokens', () => {
  let srv: TestServer;
  let offset = 0;
  const repos = [{ name: 'team', format: 'docker', type: 'local', permissions: { read: ['reader'], write: ['writer'] } }];

  before(async () => {
    srv = await startServer({ now: () => Date.now() + offset, config: { auth: await authConfig({ refreshTokenTtlSeconds: 3600 }), repos } });
    await pushImage(`${srv.url}/repo/team`, 'app', 'v1', await makeImage({ layerSizes: [500] }), { authorization: basic('writer') });
  });
  after(() => srv?.close());

  const get = async (query: string, authorization?: string): Promise<{ status: number; body: TokenAnswer }> => {
    const r = await fetch(`${srv.url}/token?service=binaryrepo&${query}`, { headers: authorization ? { authorization } : {} });
    return { status: r.status, body: (await r.json()) as TokenAnswer };
  };
  const post = async (form: Record<string, string>): Promise<{ status: number; body: TokenAnswer }> => {
    const r = await fetch(`${srv.url}/token`, { method: 'POST', body: new URLSearchParams({ service: 'binaryrepo', client_id: 'test', ...form }) });
    return { status: r.status, body: (await r.json()) as TokenAnswer };
  };
  const pull = (bearer: string): Promise<number> =>
    fetch(`${srv.url}/repo/team/v2/app/manifests/v1`, { headers: { authorization: `Bearer ${bearer}` } }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  const refresh = async (): Promise<string> => {
    const r = await get('offline_token=true&client_id=docker', basic('reader'));
    assert.equal(r.status, 200);
    assert.ok(r.body.refresh_token, 'offline_token=true with a password gives a refresh token');
    return r.body.refresh_token;
  };

  it('is issued only for offline requests that proved a password', async () => {
    assert.equal((await get('client_id=docker', basic('reader'))).body.refresh_token, undefined);
    assert.equal((await get('offline_token=true')).body.refresh_token, undefined, 'anonymous gets none');
    const grant = await post({ grant_type: 'password', username: 'reader', password: PASSWORDS.reader, access_type: 'offline' });
    assert.equal(grant.status, 200);
    assert.ok(grant.body.refresh_token && grant.body.access_token);
    await refresh();
  });

  it('the refresh_token grant gives access tokens with the user\'s permissions, never more', async () => {
    const rt = await refresh();
    const read = await post({ grant_type: 'refresh_token', refresh_token: rt, scope: 'repository:team/app:pull,push' });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.ok(read.body.access_token);
    assert.equal(await pull(read.body.access_token), 200);
    const claims = JSON.parse(Buffer.from(read.body.access_token.split('.')[1] ?? '', 'base64url').toString()) as { sub: string; access: Array<{ actions: string[] }> };
    assert.equal(claims.sub, 'reader');
    assert.deepEqual(claims.access.map((a) => a.actions), [['pull']], 'push is not granted to a reader');
  });

  it('is never accepted as a bearer token, nor when forged, expired, or after a password change', async () => {
    const rt = await refresh();
    assert.equal(await pull(rt), 401, 'a refresh token is not an access token');
    const bad = await post({ grant_type: 'refresh_token', refresh_token: `${rt.slice(0, -4)}AAAA` });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'invalid_grant');
    offset = 3_700_000;
    try {
      assert.equal((await post({ grant_type: 'refresh_token', refresh_token: rt })).status, 400, 'expired');
    } finally {
      offset = 0;
    }
    const auth = await authConfig({ refreshTokenTtlSeconds: 3600 });
    (auth['users'] as Record<string, { passwordHash: string }>)['reader'] = { passwordHash: await hashPassword('changed-password-1') };
    srv.server.access.reload(validateConfig({ auth, repos }));
    const after = await post({ grant_type: 'refresh_token', refresh_token: rt });
    assert.equal(after.status, 400, 'a new password revokes the refresh tokens of the old one');
    assert.equal(after.body.error, 'invalid_grant');
  });
});
