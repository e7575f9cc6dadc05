import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 14: the web UI is served by the server itself on every runtime: pages, assets, the signed
// session cookie (WebCrypto HMAC), a login through the form and an admin API call.
for (const rt of ['node', 'bun', 'deno'] as const) {
  describe(`web UI on ${rt}`, () => {
    let work: Awaited<ReturnType<typeof tempDir>>;
    let srv: ProcessServer;
    before(async () => {
      work = await tempDir(`ui-${rt}-`);
      const auth = { users: { admin: { passwordHash: await hashPassword('admin-password-1'), admin: true } } };
      srv = await startProcessServer(rt, { storage: { type: 'fs', path: join(work.path, 'data') }, auth, repos: [{ name: 'files', format: 'generic', type: 'local', permissions: { read: ['anonymous'] } }] }, work.path, { compiled: rt === 'node' });
    });
    after(async () => {
      await srv?.stop();
      await work?.cleanup();
    });

    it('serves pages and assets with the CSP, and logs an admin in through the form', async () => {
      const home = await fetch(`${srv.url}/ui/`);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /<a href="\/ui\/repo\/files">files<\/a>/);
      assert.match(home.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal((await fetch(`${srv.url}/ui/static/app.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
      const visit = await fetch(`${srv.url}/ui/login`);
      const cookie = (visit.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const csrf = /name="csrf" value="([^"]+)"/.exec(await visit.text())?.[1] ?? '';
      const login = await fetch(`${srv.url}/ui/login`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: srv.url }, body: new URLSearchParams({ csrf, user: 'admin', password: 'admin-password-1', next: '/ui/admin' }) });
      assert.equal(login.status, 303);
      assert.equal(login.headers.get('location'), '/ui/admin');
      const session = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const admin = await fetch(`${srv.url}/ui/admin`, { headers: { cookie: session } });
      assert.equal(admin.status, 200);
      assert.match(await admin.text(), /Garbage collection/);
      const forged = `${session.slice(0, -3)}AAA`;
      assert.equal((await fetch(`${srv.url}/ui/admin`, { headers: { cookie: forged } })).status, 401, 'a tampered cookie is nobody');
      const gc = await fetch(`${srv.url}/api/v1/gc`, { method: 'POST', headers: { authorization: `Basic ${btoa('admin:admin-password-1')}` } });
      assert.equal(gc.status, 200);
    });
  });
}
