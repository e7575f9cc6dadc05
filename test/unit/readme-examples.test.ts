import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

// Issue 24, 9 and 11: what a new user meets first.
describe('first contact', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'files', format: 'generic', type: 'local' }] } });
  });
  after(() => br?.close());

  it('a browser opening the server\'s address is sent to the UI; a client asking for JSON gets the registry error', async () => {
    const page = await fetch(`${br.url}/`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    assert.equal(page.status, 302);
    assert.equal(page.headers.get('location'), '/ui/');
    const api = await fetch(`${br.url}/`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 404);
    assert.match(await api.text(), /NOT_FOUND/);
  });

  it('every example password in the README passes hash-password\'s minimum of 8 characters', async () => {
    const readme = await readFile(resolve(ROOT, 'README.md'), 'utf8');
    const passwords = [...readme.matchAll(/-u [a-z]+:([^\s$]+)/g), ...readme.matchAll(/--password (\S+)/g)].map((m) => m[1] ?? '').filter((p) => p !== '…'); // … stands for the reader's own
    assert.ok(passwords.length >= 3, 'the README shows credentials');
    for (const p of passwords) assert.ok(p.length >= 8, `"${p}" is refused by hash-password`);
  });
});
