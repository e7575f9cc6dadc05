import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password.ts';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer, RuntimeName } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends SIGHUP and waits for the server's log line about it (the n-th such line). */
async function hangup(srv: ProcessServer, n: number): Promise<Record<string, unknown>> {
  srv.child.kill('SIGHUP');
  for (let i = 0; i < 200; i++) {
    const lines = srv.logs
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return null;
        }
      })
      .filter((j): j is Record<string, unknown> => j !== null && typeof j['msg'] === 'string' && (j['msg'] as string).startsWith('config reload'));
    const line = lines[n - 1];
    if (line) return line;
    await sleep(25);
  }
  throw new Error(`no reload log line after SIGHUP\n${srv.logs.slice(-5).join('\n')}`);
}

// SIGHUP re-reads the config file: a changed password, a revoked permission and a new user hold from
// the next request on every runtime, without a restart; a broken file changes nothing.
for (const rt of ['node', 'bun', 'deno'] as RuntimeName[]) {
  describe(`config reload on SIGHUP (${rt})`, () => {
    it('applies users and permissions live; a broken config leaves the running one in place', async () => {
      const dir = await tempDir(`reload-${rt}-`);
      const repo = (read: string[]): Record<string, unknown> => ({ name: 'team', format: 'docker', type: 'local', permissions: { read, write: ['writer'] } });
      const base = { storage: { type: 'fs', path: `${dir.path}/data` }, auth: await authConfig({ tokenSecret: 'reload-test-secret-0123456789abcdef' }) };
      const srv = await startProcessServer(rt, { ...base, repos: [repo(['reader'])] }, dir.path);
      const configPath = join(dir.path, `config-${rt}.json`);
      const status = (path: string, authorization: string): Promise<number> =>
        fetch(`${srv.url}/repo/team/v2/${path}`, { headers: { authorization } }).then(async (r) => {
          await r.arrayBuffer();
          return r.status;
        });
      // The ping checks credentials only; the tag list also checks the read permission.
      const login = (authorization: string): Promise<number> => status('', authorization);
      // A missing image and a repo the caller may not read are both 404 (issue 24, 25: a repo's name is
      // told only to those who may read it); the message says which.
      const read = (authorization: string): Promise<string> =>
        fetch(`${srv.url}/repo/team/v2/team/app/tags/list`, { headers: { authorization } }).then(async (r) => `${r.status} ${r.status === 404 && (await r.text()).includes('no repository named team') ? 'unreadable' : 'readable'}`);
      const as = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      try {
        assert.equal(await read(basic('reader')), '404 readable', 'reader may read (the image does not exist yet)');
        assert.equal(await read(as('newbie', 'newbie-password')), '401 readable', 'no such user yet');

        const auth = await authConfig({ tokenSecret: 'reload-test-secret-0123456789abcdef' });
        const users = auth['users'] as Record<string, { passwordHash: string }>;
        users['reader'] = { passwordHash: await hashPassword('reader-new-password') };
        users['newbie'] = { passwordHash: await hashPassword('newbie-password') };
        await writeFile(configPath, JSON.stringify({ listen: '127.0.0.1:0', ...base, auth, repos: [repo(['newbie'])] }));
        const done = await hangup(srv, 1);
        assert.equal(done['msg'], 'config reloaded', JSON.stringify(done));
        const lastReload = async (): Promise<{ ok: boolean; source: string } | null> =>
          ((await (await fetch(`${srv.url}/api/v1/reload`, { headers: { authorization: basic('boss') } })).json()) as { lastReload: { ok: boolean; source: string } | null }).lastReload;
        assert.deepEqual(await lastReload().then((r) => [r?.ok, r?.source]), [true, configPath], 'the admin API reports the reload');

        assert.equal(await login(basic('reader')), 401, 'the old password is refused at once');
        assert.equal(await login(as('reader', 'reader-new-password')), 200, 'the new password works');
        assert.equal(await read(as('reader', 'reader-new-password')), '404 unreadable', 'the read permission was taken away');
        assert.equal(await read(as('newbie', 'newbie-password')), '404 readable', 'a new user with read permission');
        assert.equal(await read(as('writer', PASSWORDS.writer)), '404 readable', 'write implies read');

        await writeFile(configPath, '{ "repos": [ this is not json');
        const failed = await hangup(srv, 2);
        assert.equal(failed['msg'], 'config reload failed; the running config stays', JSON.stringify(failed));
        assert.equal((await lastReload())?.ok, false);
        assert.equal(await read(as('newbie', 'newbie-password')), '404 readable', 'still the last good config');
      } finally {
        await srv.stop();
        await dir.cleanup();
      }
    });
  });
}
