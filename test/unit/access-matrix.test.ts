import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic, token } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// Issue 23, 1: one access decision for every path. Credential kind × format × action, each cell
// the status a request gets: refused (401/403) or let through (anything else; the body may still
// be wrong, which is the format's business). Before the fix a Docker registry token minted for
// pull on one image was a full login everywhere else: a generic PUT answered 201 and the admin
// API's gc 200 for an admin's token.
type Cell = 'ok' | 'no';
const DAY = 86_400_000;

describe('access control: credential kind × format × action', () => {
  let br: TestServer;
  let clock = Date.now();
  const creds: Record<string, string | null> = {};

  before(async () => {
    br = await startServer({
      now: () => clock,
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'dl', format: 'docker', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'files', format: 'generic', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'gol', format: 'go', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'charts', format: 'helm', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'm2', format: 'maven', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'crates', format: 'cargo', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
          { name: 'debs', format: 'debian', type: 'local', permissions: { read: ['authenticated'], write: ['writer'], delete: [] } },
        ],
      },
    });
    assert.equal((await fetch(`${br.url}/repo/files/a.txt`, { method: 'PUT', body: 'a', headers: { authorization: basic('writer') } })).status, 201);
    const mint = async (user: 'writer' | 'reader' | 'boss', body: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic(user), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 201, await res.clone().text());
      return ((await res.json()) as { token: string }).token;
    };
    creds['anonymous'] = null;
    creds['writer password'] = basic('writer');
    creds['writer registry token dl/some/image:pull'] = `Bearer ${await token(`${br.url}/token`, 'repository:dl/some/image:pull', 'writer')}`;
    creds['admin registry token dl/some/image:pull'] = `Bearer ${await token(`${br.url}/token`, 'repository:dl/some/image:pull', 'boss')}`;
    creds['writer token files:read'] = `Bearer ${await mint('writer', { name: 'ci read', repos: ['files'], actions: ['read'] })}`;
    const ciWrite = await mint('writer', { name: 'ci write', repos: ['*'], actions: ['write'] });
    creds['writer token *:write (as Basic password)'] = `Basic ${btoa(`anything:${ciWrite}`)}`;
    // Cargo sends its token as the whole Authorization header.
    creds['writer token *:write (raw, as cargo sends it)'] = ciWrite;
    creds['reader token *:write'] = `Bearer ${await mint('reader', { name: 'wants more', repos: ['*'], actions: ['write'] })}`;
    creds['admin token *:read'] = `Bearer ${await mint('boss', { name: 'no admin', repos: ['*'], actions: ['read'] })}`;
    creds['admin token admin'] = `Bearer ${await mint('boss', { name: 'ops', repos: ['*'], actions: ['admin'] })}`;
    const revoked = await mint('writer', { name: 'gone', repos: ['*'], actions: ['write'] });
    const list = (await (await fetch(`${br.url}/api/v1/tokens`, { headers: { authorization: basic('writer') } })).json()) as { tokens: Array<{ id: string; name: string }> };
    const gone = list.tokens.find((t) => t.name === 'gone');
    assert.ok(gone);
    assert.equal((await fetch(`${br.url}/api/v1/tokens/${gone.id}`, { method: 'DELETE', headers: { authorization: basic('writer') } })).status, 204);
    creds['revoked writer token'] = `Bearer ${revoked}`;
    creds['made-up token'] = `Bearer brt_0123456789abcdef_${'A'.repeat(43)}`;
  });
  after(() => br?.close());

  const paths: Record<string, { method: string; path: string; body?: string }> = {
    'docker read': { method: 'GET', path: '/repo/dl/v2/some/image/tags/list' },
    'docker write': { method: 'POST', path: '/repo/dl/v2/some/image/blobs/uploads/' },
    'generic read': { method: 'GET', path: '/repo/files/a.txt' },
    'generic write': { method: 'PUT', path: '/repo/files/b.txt', body: 'b' },
    'go read': { method: 'GET', path: '/repo/gol/example.com/m/@v/list' },
    'go write': { method: 'PUT', path: '/repo/gol/example.com/m/@v/v1.0.0.zip', body: 'not a zip' },
    'helm read': { method: 'GET', path: '/repo/charts/index.yaml' },
    'helm write': { method: 'POST', path: '/repo/charts/api/charts', body: 'not a chart' },
    'maven read': { method: 'GET', path: '/repo/m2/org/x/maven-metadata.xml' },
    'maven write': { method: 'PUT', path: '/repo/m2/org/x/1.0/x-1.0.jar', body: 'jar' },
    'cargo read': { method: 'GET', path: '/repo/crates/index/config.json' },
    'cargo write': { method: 'PUT', path: '/repo/crates/api/v1/crates/new', body: 'not a publish frame' },
    'debian read': { method: 'GET', path: '/repo/debs/key.asc' },
    'debian write': { method: 'PUT', path: '/repo/debs/upload/stable/main', body: 'not a deb' },
    'admin api': { method: 'POST', path: '/api/v1/gc?dryRun=true' },
    'ui admin page': { method: 'GET', path: '/ui/admin' },
  };
  //                                   docker r/w   generic r/w  go r/w      helm r/w    maven r/w   cargo r/w   debian r/w  admin  ui
  const expected: Record<string, Cell[]> = {
    anonymous: ['no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
    'writer password': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'no', 'no'],
    'writer registry token dl/some/image:pull': ['ok', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
    'admin registry token dl/some/image:pull': ['ok', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
    'writer token files:read': ['no', 'no', 'ok', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
    'writer token *:write (as Basic password)': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'no', 'no'],
    'writer token *:write (raw, as cargo sends it)': ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'no', 'no'],
    'reader token *:write': ['ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'no', 'no'],
    'admin token *:read': ['ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'ok', 'no', 'no', 'no'],
    'admin token admin': ['no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'ok', 'no'],
    'revoked writer token': ['no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
    'made-up token': ['no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no', 'no'],
  };

  async function cell(cred: string | null, p: { method: string; path: string; body?: string }): Promise<{ got: Cell; status: number }> {
    const res = await fetch(`${br.url}${p.path}`, { method: p.method, headers: cred ? { authorization: cred } : {}, ...(p.body !== undefined ? { body: p.body } : {}), redirect: 'manual' });
    await res.body?.cancel();
    // 429: the login guard refusing an address after many failed credentials (the bad-token rows) is a refusal too.
    return { got: res.status === 401 || res.status === 403 || res.status === 429 ? 'no' : 'ok', status: res.status };
  }

  it('every cell of the matrix', async () => {
    const wrong: string[] = [];
    for (const [who, row] of Object.entries(expected)) {
      for (const [i, [what, p]] of Object.entries(paths).entries()) {
        const { got, status } = await cell(creds[who] ?? null, p);
        if (got !== row[i]) wrong.push(`${who} × ${what}: expected ${row[i]}, got ${status}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('an expired token is refused everywhere; the owner losing a permission loses it in the token too', async () => {
    const res = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic('writer'), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'short', repos: ['files'], actions: ['write'], expiresInDays: 1 }) });
    const short = `Bearer ${((await res.json()) as { token: string }).token}`;
    assert.equal((await cell(short, paths['generic write'] ?? { method: '', path: '' })).got, 'ok');
    clock += 2 * DAY;
    for (const [what, p] of Object.entries(paths)) assert.equal((await cell(short, p)).got, 'no', `expired token × ${what}`);
    // Permissions are read live: the same token string, once its owner may no longer write, cannot.
    const writerToken = creds['writer token *:write (as Basic password)'] ?? '';
    assert.equal((await cell(writerToken, paths['generic write'] ?? { method: '', path: '' })).got, 'ok');
    br.server.access.reload({ ...br.server.config, repos: br.server.config.repos.map((r) => (r.name === 'files' ? { ...r, permissions: { read: ['authenticated'], write: [], delete: [] } } : r)) });
    assert.equal((await cell(writerToken, paths['generic write'] ?? { method: '', path: '' })).got, 'no');
    assert.equal((await cell(writerToken, paths['generic read'] ?? { method: '', path: '' })).got, 'ok');
  });

  it('tokens are managed only with a password or a session, and never mint admin for a non-admin', async () => {
    const withToken = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: creds['writer token *:write (as Basic password)'] ?? '', 'content-type': 'application/json' }, body: JSON.stringify({ name: 'child' }) });
    assert.equal(withToken.status, 403);
    const adminForWriter = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic('writer'), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', actions: ['admin'] }) });
    assert.equal(adminForWriter.status, 400);
    const listed = (await (await fetch(`${br.url}/api/v1/tokens`, { headers: { authorization: basic('writer') } })).json()) as { tokens: Array<Record<string, unknown>> };
    assert.ok(listed.tokens.length >= 2);
    for (const t of listed.tokens) {
      assert.equal(t['user'], 'writer');
      assert.equal(t['hash'], undefined, 'the hash never leaves the server');
    }
    const used = listed.tokens.find((t) => t['name'] === 'ci write');
    assert.equal(typeof used?.['lastUsedAt'], 'number', 'last use recorded');
    const others = await fetch(`${br.url}/api/v1/tokens?user=boss`, { headers: { authorization: basic('writer') } });
    assert.equal(others.status, 403);
  });
});
