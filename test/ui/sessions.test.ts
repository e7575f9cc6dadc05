import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.ts';
import { PASSWORDS, authConfig } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** Logs in through the form as a browser does; returns the session cookie and its CSRF token. */
async function login(url: string, user: keyof typeof PASSWORDS): Promise<{ cookie: string; csrf: string }> {
  const page = await fetch(`${url}/ui/login`);
  const anon = (page.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const res = await fetch(`${url}/ui/login`, { method: 'POST', body: new URLSearchParams({ csrf, user, password: PASSWORDS[user], next: '/ui/' }), redirect: 'manual', headers: { cookie: anon, origin: url } });
  assert.equal(res.status, 303);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const home = await fetch(`${url}/ui/admin`, { headers: { cookie } });
  const token = /name="csrf" value="([^"]+)"/.exec(await home.text())?.[1] ?? '';
  return { cookie, csrf: token };
}

const adminStatus = async (url: string, cookie: string): Promise<number> => {
  const r = await fetch(`${url}/ui/admin`, { headers: { cookie } });
  await r.body?.cancel();
  return r.status;
};

// Issue 24, 18: a UI session survived logout and password changes (an old cookie stayed admin for its
// 8 h). Now logout ends that session, and a password change or the user's removal ends them all.
describe('UI sessions end on logout, on a password change and with the user', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { auth: await authConfig(), repos: [{ name: 'files', format: 'generic', type: 'local' }] } });
  });
  after(() => br?.close());

  it('logout ends the session it was sent from, and only that one', async () => {
    const a = await login(br.url, 'boss');
    const b = await login(br.url, 'boss');
    assert.equal(await adminStatus(br.url, a.cookie), 200);
    const out = await fetch(`${br.url}/ui/logout`, { method: 'POST', body: new URLSearchParams({ csrf: a.csrf }), redirect: 'manual', headers: { cookie: a.cookie, origin: br.url } });
    assert.equal(out.status, 303);
    assert.equal(await adminStatus(br.url, a.cookie), 401, 'the old cookie is no login any more');
    const api = await fetch(`${br.url}/api/v1/usage`, { headers: { cookie: a.cookie } });
    assert.equal(api.status, 401, 'nor for the admin API');
    assert.equal(await adminStatus(br.url, b.cookie), 200, 'the other session goes on');
  });

  it('a password change (config reload) ends every session of that user; removing the user too', async () => {
    const boss = await login(br.url, 'boss');
    const writer = await login(br.url, 'writer');
    const cfg = br.server.config;
    const users = { ...(cfg.auth?.users ?? {}) };
    users['boss'] = { ...users['boss'], passwordHash: await hashPassword('a new boss password'), admin: true };
    delete users['writer'];
    br.server.access.reload({ ...cfg, auth: cfg.auth ? { ...cfg.auth, users } : undefined });
    assert.equal(await adminStatus(br.url, boss.cookie), 401);
    const page = await fetch(`${br.url}/ui/`, { headers: { cookie: writer.cookie } });
    assert.doesNotMatch(await page.text(), /class="user">writer</, 'the removed user is logged out');
  });
});

// A session id is 16 random bytes in base64url: one in 32 starts with '-' or '_'. A key segment
// may not start with '-', so such a session once broke every page it was used on (a 1-in-64 flake).
describe('every session id makes a valid revocation key', () => {
  it('ids that start with - or _ are stored and found', async () => {
    const { RevokedSessions } = await import('../../src/auth/revoked-sessions.ts');
    const { MetaStore } = await import('../../src/storage/meta-store.ts');
    const { FsDriver } = await import('../../src/storage/fs.ts');
    const { tempDir } = await import('../helpers/tmp.ts');
    const dir = await tempDir('revoked-');
    try {
      const r = new RevokedSessions(new MetaStore(new FsDriver(dir.path), () => crypto.randomUUID()), Date.now);
      for (const sid of ['-abcdefghijklmnopqrstu', '_abcdefghijklmnopqrstu', 'Aabcdefghijklmnopqrstu']) {
        assert.equal(await r.has(sid), false);
        await r.add(sid, Date.now() + 60_000);
        assert.equal(await r.has(sid), true);
      }
    } finally {
      await dir.cleanup();
    }
  });
});
