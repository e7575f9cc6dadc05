import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password.ts';
import { signToken } from '../../src/auth/token.ts';
import { tempDir } from '../helpers/tmp.ts';
import { PASSWORDS, authConfig, basic, token } from '../helpers/auth.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const local = (name: string, permissions: Record<string, string[]>) => ({ name, format: 'docker', type: 'local', permissions });
const code = async (r: Response): Promise<string | undefined> => ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]?.code;

// The Docker token flow and permissions, at the protocol level (clients are in test/e2e).
describe('users, tokens and permissions', () => {
  let srv: TestServer;
  let img: TestImage;
  let offset = 0;

  before(async () => {
    srv = await startServer({
      now: () => Date.now() + offset,
      config: {
        auth: await authConfig({ tokenTtlSeconds: 60 }),
        repos: [
          local('team', { read: ['reader'], write: ['writer'], delete: ['writer'] }),
          local('public', { read: ['anonymous'], write: ['writer'] }),
          local('secret', {}),
          { name: 'all', format: 'docker', type: 'virtual', members: ['public', 'secret'], permissions: { read: ['authenticated'] } },
        ],
      },
    });
    img = await makeImage({ layerSizes: [1000] });
    await pushImage(`${srv.url}/repo/team`, 'app', 'v1', img, { authorization: basic('writer') });
    await pushImage(`${srv.url}/repo/public`, 'app', 'v1', img, { authorization: basic('boss') });
    await pushImage(`${srv.url}/repo/secret`, 'app', 'v1', img, { authorization: basic('boss') });
    await pushImage(`${srv.url}/repo/secret`, 'hidden', 'v1', img, { authorization: basic('boss') });
  });
  after(() => srv?.close());

  const url = (repo: string, path: string): string => `${srv.url}/repo/${repo}/v2/${path}`;

  it('no credentials: 401 with a Bearer challenge naming realm, service and scope', async () => {
    const r = await fetch(url('team', 'app/manifests/v1'));
    assert.equal(r.status, 401);
    assert.equal(await code(r), 'UNAUTHORIZED');
    const ch = r.headers.get('www-authenticate') ?? '';
    assert.match(ch, new RegExp(`^Bearer realm="${srv.url}/repo/team/token",service="binaryrepo",scope="repository:app:pull"$`));
    const ping = await fetch(`${srv.url}/repo/team/v2/`);
    assert.equal(ping.status, 401, 'the /v2/ login check needs credentials');
  });

  it('tokens carry only what the user may do; Basic works on registry routes too', async () => {
    const t = await token(`${srv.url}/repo/team/token`, 'repository:app:pull,push', 'reader');
    const auth = { authorization: `Bearer ${t}` };
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: auth })).status, 200);
    const push = await fetch(url('team', 'app/blobs/uploads/'), { method: 'POST', headers: auth });
    assert.equal(push.status, 403);
    assert.equal(await code(push), 'DENIED');
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: basic('reader') } })).status, 200);
    const bad = await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Basic ${Buffer.from('reader:wrong').toString('base64')}` } });
    assert.equal(bad.status, 401);
    assert.equal((await fetch(`${srv.url}/token?scope=repository:team/app:pull`, { headers: { authorization: `Basic ${Buffer.from('reader:nope').toString('base64')}` } })).status, 401);
  });

  it('a writer pushes with a token; a token lacking the action gets insufficient_scope', async () => {
    const pullOnly = await token(`${srv.url}/repo/team/token`, 'repository:app2:pull', 'writer');
    const r = await fetch(url('team', 'app2/blobs/uploads/'), { method: 'POST', headers: { authorization: `Bearer ${pullOnly}` } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /scope="repository:app2:pull,push",error="insufficient_scope"/);
    const t = await token(`${srv.url}/repo/team/token`, 'repository:app2:pull,push', 'writer');
    const other = await makeImage({ layerSizes: [500] });
    await pushImage(`${srv.url}/repo/team`, 'app2', 'v1', other, { authorization: `Bearer ${t}` });
  });

  it('anonymous pull works only where allowed', async () => {
    const anon = await token(`${srv.url}/repo/public/token`, 'repository:app:pull');
    assert.equal((await fetch(url('public', 'app/manifests/v1'), { headers: { authorization: `Bearer ${anon}` } })).status, 200);
    assert.equal((await fetch(url('public', 'app/manifests/v1'))).status, 200, 'anonymous without any token, too');
    const anonTeam = await token(`${srv.url}/repo/team/token`, 'repository:app:pull');
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${anonTeam}` } })).status, 401);
    assert.equal((await fetch(url('public', 'app/blobs/uploads/'), { method: 'POST' })).status, 401, 'anonymous never writes');
  });

  it('a token for one repo does not grant another; a token for one image not another', async () => {
    const t = await token(`${srv.url}/repo/public/token`, 'repository:app:pull,push', 'writer');
    assert.equal((await fetch(url('public', 'app/blobs/uploads/'), { method: 'POST', headers: { authorization: `Bearer ${t}` } })).status, 202);
    const r = await fetch(url('team', 'app/blobs/uploads/'), { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    assert.equal(r.status, 401);
    const img2 = await fetch(url('public', 'other/blobs/uploads/'), { method: 'POST', headers: { authorization: `Bearer ${t}` } });
    assert.equal(img2.status, 401);
  });

  it('expired, forged and foreign tokens are refused', async () => {
    const t = await token(`${srv.url}/repo/team/token`, 'repository:app:pull', 'reader');
    const auth = { authorization: `Bearer ${t}` };
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: auth })).status, 200);
    offset = 61_000;
    try {
      const r = await fetch(url('team', 'app/manifests/v1'), { headers: auth });
      assert.equal(r.status, 401);
      assert.match(r.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    } finally {
      offset = 0;
    }
    const [h, p] = t.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as { access: Array<{ actions: string[] }> };
    for (const a of claims.access) a.actions.push('push');
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${t.split('.')[2]}`;
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${none}` } })).status, 401);
  });

  it('delete needs the delete permission', async () => {
    const other = await makeImage({ layerSizes: [300] });
    await pushImage(`${srv.url}/repo/team`, 'gone', 'v1', other, { authorization: basic('writer') });
    const asReader = await fetch(url('team', 'gone/manifests/v1'), { method: 'DELETE', headers: { authorization: basic('reader') } });
    assert.equal(asReader.status, 403);
    const asPublicWriter = await fetch(url('public', 'app/manifests/v1'), { method: 'DELETE', headers: { authorization: basic('writer') } });
    assert.equal(asPublicWriter.status, 403, 'write does not imply delete');
    assert.equal((await fetch(url('team', 'gone/manifests/v1'), { method: 'DELETE', headers: { authorization: basic('writer') } })).status, 202);
    // The request log is the audit trail: who deleted what, and who was refused.
    const deletes = srv.logs
      .map((l) => JSON.parse(l) as { msg: string; method?: string; path?: string; user?: string; status?: number })
      .filter((l) => l.msg === 'request' && l.method === 'DELETE' && l.path?.endsWith('/gone/manifests/v1'));
    assert.deepEqual(deletes.map((l) => [l.user, l.status]), [['reader', 403], ['writer', 202]]);
  });

  it('cross-repo mount: only from a repo the caller may read', async () => {
    // Root URLs in repository-path style: the mount's `from` names another repo.
    const layer = img.layers[0];
    assert.ok(layer);
    const from = (repo: string) => `${srv.url}/v2/team/mounted/blobs/uploads/?mount=${layer.digest}&from=${repo}/app`;
    const ok = await fetch(from('public'), { method: 'POST', headers: { authorization: basic('writer') } });
    assert.equal(ok.status, 201, await ok.text());
    assert.equal((await fetch(url('team', `mounted/blobs/${layer.digest}`), { headers: { authorization: basic('writer') } })).status, 200);
    const boss = await fetch(`${srv.url}/v2/public/m2/blobs/uploads/?mount=${layer.digest}&from=team/app`, { method: 'POST', headers: { authorization: basic('boss') } });
    assert.equal(boss.status, 201);
    const fromSecret = await fetch(`${srv.url}/v2/public/m3/blobs/uploads/?mount=${layer.digest}&from=secret/app`, { method: 'POST', headers: { authorization: basic('writer') } });
    assert.equal(fromSecret.status, 202, 'writer may not read secret: an upload session instead of a mount');
    assert.equal((await fetch(url('public', `m3/blobs/${layer.digest}`), { headers: { authorization: basic('boss') } })).status, 404);
  });

  it('a token for another service or signed by another key is refused; no credential ever reaches the logs', async () => {
    const secret = await readFile(join(srv.dataDir, 'v1', 'auth', 'token-secret'));
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: 'binaryrepo', sub: 'reader', exp: now + 60, nbf: now, iat: now, jti: 'x', access: [{ type: 'repository' as const, name: 'team/app', actions: ['pull'] }] };
    const good = signToken({ ...claims, aud: 'binaryrepo' }, secret);
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${good}` } })).status, 200, 'control: our own signature works');
    for (const t of [signToken({ ...claims, aud: 'other-service' }, secret), signToken({ ...claims, aud: 'binaryrepo' }, new TextEncoder().encode('x'.repeat(32))), signToken({ ...claims, aud: 'binaryrepo', sub: 'ghost' }, secret)]) {
      assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${t}` } })).status, 401);
    }
    const logs = srv.logs.join('\n');
    for (const secretText of [...Object.values(PASSWORDS), good, Buffer.from(`reader:${PASSWORDS.reader}`).toString('base64')]) {
      assert.ok(!logs.includes(secretText), 'a credential was logged');
    }
  });

  it('through a virtual repo a user sees only the members they may read', async () => {
    const get = (image: string, user: 'reader' | 'boss') => fetch(url('all', `${image}/manifests/v1`), { headers: { authorization: basic(user) } });
    assert.equal((await get('app', 'reader')).status, 200, 'public member');
    assert.equal((await get('hidden', 'reader')).status, 404, 'the secret member is not there for reader');
    assert.equal((await get('hidden', 'boss')).status, 200);
    const tags = await fetch(url('all', 'hidden/tags/list'), { headers: { authorization: basic('reader') } });
    assert.equal(tags.status, 404);
    // Knowing a digest is not access: a mount through the virtual repo cannot reach the secret member.
    const layer = img.layers[0];
    assert.ok(layer);
    const m = await fetch(`${srv.url}/v2/public/stolen/blobs/uploads/?mount=${layer.digest}&from=all/hidden`, { method: 'POST', headers: { authorization: basic('writer') } });
    assert.equal(m.status, 202);
  });

  it('POST /token (OAuth2 password grant) and the catalog filtered by permission', async () => {
    const r = await fetch(`${srv.url}/repo/team/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username: 'reader', password: PASSWORDS.reader, service: 'binaryrepo', scope: 'repository:app:pull' }),
    });
    assert.equal(r.status, 200);
    const t = ((await r.json()) as { access_token: string }).access_token;
    assert.equal((await fetch(url('team', 'app/manifests/v1'), { headers: { authorization: `Bearer ${t}` } })).status, 200);
    assert.equal((await fetch(`${srv.url}/repo/team/v2/_catalog`, { headers: { authorization: basic('writer') } })).status, 200);
    assert.equal((await fetch(`${srv.url}/repo/team/v2/_catalog`)).status, 401);
  });
});

describe('a password change (restart with a new hash)', () => {
  it('refuses the old password at once, Basic or through the token endpoint', async () => {
    const dir = await tempDir('pwchange-');
    const repos = [local('team', { read: ['reader'] })];
    try {
      const first = await startServer({ dataDir: dir.path, config: { auth: await authConfig(), repos } });
      assert.equal((await fetch(`${first.url}/repo/team/v2/`, { headers: { authorization: basic('reader') } })).status, 200);
      await first.close();
      const cfg = await authConfig();
      const users = cfg['users'] as Record<string, { passwordHash: string }>;
      users['reader'] = { passwordHash: await hashPassword('a-brand-new-password') };
      const second = await startServer({ dataDir: dir.path, config: { auth: cfg, repos } });
      try {
        assert.equal((await fetch(`${second.url}/repo/team/v2/`, { headers: { authorization: basic('reader') } })).status, 401);
        assert.equal((await fetch(`${second.url}/repo/team/token`, { headers: { authorization: basic('reader') } })).status, 401);
        const fresh = `Basic ${Buffer.from('reader:a-brand-new-password').toString('base64')}`;
        assert.equal((await fetch(`${second.url}/repo/team/v2/`, { headers: { authorization: fresh } })).status, 200);
      } finally {
        await second.close();
      }
    } finally {
      await dir.cleanup();
    }
  });
});
