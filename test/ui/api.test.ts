import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** The session cookie and the CSRF token of a fresh visit to the login page. */
async function visit(url: string): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${url}/ui/login`);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const csrf = /name="csrf" value="([^"]+)"/.exec(await r.text())?.[1] ?? '';
  assert.ok(cookie.startsWith('br_session=') && csrf !== '', 'a session and its token');
  return { cookie, csrf };
}

async function login(url: string, user: keyof typeof PASSWORDS, next = '/ui/', extra: Record<string, string> = {}): Promise<Response> {
  const v = await visit(url);
  const body = new URLSearchParams({ csrf: v.csrf, user, password: PASSWORDS[user], next });
  return fetch(`${url}/ui/login`, { method: 'POST', body, redirect: 'manual', headers: { cookie: v.cookie, origin: url, ...extra } });
}

describe('admin API and UI safety (issue 14)', () => {
  let srv: TestServer;
  let reg: RunningRegistry;
  before(async () => {
    reg = await startRegistry();
    await pushImage(reg.url, 'library/tool', '1', await makeImage({ layerSizes: [2000] }));
    srv = await startServer({
      config: {
        auth: await authConfig(),
        repos: [remoteRepo('hub', reg.url, { permissions: { read: ['anonymous'] } }), { name: 'private', format: 'docker', type: 'local', permissions: { read: ['writer'], write: ['writer'] } }],
      },
    });
  });
  after(async () => {
    await srv?.close();
    await reg?.stop();
  });

  it('pages carry a strict CSP and the session cookie is HttpOnly and SameSite=Strict', async () => {
    const r = await fetch(`${srv.url}/ui/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'; .*frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    const cookie = r.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^br_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const tls = await fetch(`${srv.url}/ui/`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(tls.headers.get('set-cookie') ?? '', /; Secure$/);
  });

  it('login: wrong password, no CSRF token, a cross-site origin are refused; next never leaves /ui/', async () => {
    const v = await visit(srv.url);
    const wrong = await fetch(`${srv.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ csrf: v.csrf, user: 'reader', password: 'nope-nope' }), headers: { cookie: v.cookie } });
    assert.equal(wrong.status, 401);
    const noToken = await fetch(`${srv.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ user: 'reader', password: PASSWORDS.reader }), headers: { cookie: v.cookie } });
    assert.equal(noToken.status, 403);
    const crossSite = await login(srv.url, 'reader', '/ui/', { origin: 'https://evil.example' });
    assert.equal(crossSite.status, 403);
    for (const [next, where] of [['/ui/admin', '/ui/admin'], ['https://evil.example/', '/ui/'], ['//evil.example/ui/', '/ui/'], ['/ui/\\evil', '/ui/'], ['/elsewhere', '/ui/']]) {
      const r = await login(srv.url, 'reader', next ?? '');
      assert.equal(r.status, 303, next);
      assert.equal(r.headers.get('location'), where, next);
      assert.match(r.headers.get('set-cookie') ?? '', /^br_session=/);
    }
  });

  it('the API lists what the caller may read, refuses bad credentials in its one error shape', async () => {
    const names = async (headers: Record<string, string>): Promise<string[]> => {
      const r = await fetch(`${srv.url}/api/v1/repos`, { headers });
      assert.equal(r.status, 200);
      return ((await r.json()) as { repos: Array<{ name: string }> }).repos.map((x) => x.name);
    };
    assert.deepEqual(await names({}), ['hub']);
    assert.deepEqual(await names({ authorization: basic('writer') }), ['hub', 'private']);
    const bad = await fetch(`${srv.url}/api/v1/repos`, { headers: { authorization: 'Basic d3JpdGVyOndyb25n' } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.deepEqual(await bad.json(), { error: { code: 'UNAUTHORIZED', message: 'credentials were not accepted' } });
    const none = await fetch(`${srv.url}/api/v1/nothing-here`);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('jobs need an admin, default to a dry run, and a session needs its CSRF header; warm fills the cache', async () => {
    const asReader = await fetch(`${srv.url}/api/v1/gc`, { method: 'POST', headers: { authorization: basic('reader') } });
    assert.equal(asReader.status, 403);
    assert.equal(((await asReader.json()) as { error: { code: string } }).error.code, 'DENIED');
    assert.equal((await fetch(`${srv.url}/api/v1/gc`, { method: 'POST' })).status, 401);
    const dry = await fetch(`${srv.url}/api/v1/gc`, { method: 'POST', headers: { authorization: basic('boss') } });
    assert.equal(dry.status, 200);
    assert.equal(((await dry.json()) as { dryRun: boolean }).dryRun, true);
    assert.equal((await fetch(`${srv.url}/api/v1/gc?dryRun=perhaps`, { method: 'POST', headers: { authorization: basic('boss') } })).status, 400);

    const session = ((await login(srv.url, 'boss')).headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const noHeader = await fetch(`${srv.url}/api/v1/gc?dryRun=false`, { method: 'POST', headers: { cookie: session } });
    assert.equal(noHeader.status, 403);
    assert.equal(((await noHeader.json()) as { error: { code: string } }).error.code, 'CSRF');
    assert.equal((await fetch(`${srv.url}/api/v1/usage`, { headers: { cookie: session } })).status, 200, 'reading needs no token');

    const warm = await fetch(`${srv.url}/api/v1/repos/hub/warm`, { method: 'POST', body: JSON.stringify({ refs: ['library/tool:1'] }), headers: { authorization: basic('boss'), 'content-type': 'application/json' } });
    const body = (await warm.json()) as { results: Array<{ ok: boolean }> };
    assert.equal(warm.status, 200, JSON.stringify(body));
    assert.deepEqual(body.results.map((r) => r.ok), [true]);
    await srv.server.fills.idle();
    const pulled = await fetch(`${srv.url}/repo/hub/v2/library/tool/manifests/1`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    assert.equal(pulled.headers.get('x-cache'), 'HIT', 'warmed before any client asked');
    const badBody = await fetch(`${srv.url}/api/v1/repos/hub/warm`, { method: 'POST', body: '{"refs": 3}', headers: { authorization: basic('boss'), 'content-type': 'application/json' } });
    assert.equal(badBody.status, 400);
    assert.ok(srv.logs.some((l) => l.includes('"admin action"') && l.includes('"user":"boss"') && l.includes('"action":"warm"')));
    assert.ok(srv.logs.some((l) => l.includes('"path":"/api/v1/repos/hub/warm"') && l.includes('"user":"boss"')), 'the request log names the user');
  });
});

describe('admin switches: offline and pins at run time (issue 14)', () => {
  let srv: TestServer;
  let reg: RunningRegistry;
  const boss = { authorization: basic('boss') };
  before(async () => {
    reg = await startRegistry();
    await pushImage(reg.url, 'library/tool', '1', await makeImage({ layerSizes: [3000] }));
    await pushImage(reg.url, 'library/other', '1', await makeImage({ layerSizes: [3000] }));
    srv = await startServer({ config: { auth: await authConfig(), repos: [remoteRepo('hub', reg.url, { permissions: { read: ['anonymous'] } })] } });
    const warm = await fetch(`${srv.url}/api/v1/repos/hub/warm`, { method: 'POST', body: JSON.stringify({ refs: ['library/tool:1'] }), headers: { ...boss, 'content-type': 'application/json' } });
    assert.equal(warm.status, 200);
    await srv.server.fills.idle();
  });
  after(async () => {
    await srv?.close();
    await reg?.stop();
  });
  const manifest = (name: string): Promise<Response> => fetch(`${srv.url}/repo/hub/v2/library/${name}/manifests/1`, { headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });

  it('offline switched on serves only the cache, survives a restart, and goes back to the config', async () => {
    const on = await fetch(`${srv.url}/api/v1/repos/hub/offline?on=true`, { method: 'POST', headers: boss });
    assert.equal(on.status, 200);
    assert.deepEqual(((await on.json()) as { offline: boolean; offlineBy: string }).offline, true);
    assert.equal((await manifest('tool')).status, 200, 'cached: served');
    const other = await manifest('other');
    assert.equal(other.status, 404, 'not cached: not fetched');
    assert.match(await other.text(), /offline/);
    // Another server over the same store reads the switch at start.
    const second = await startServer({ dataDir: srv.dataDir, config: { repos: [remoteRepo('hub', reg.url)] } });
    try {
      assert.equal((await fetch(`${second.url}/repo/hub/v2/library/other/manifests/1`)).status, 404);
    } finally {
      await second.close();
    }
    assert.equal((await fetch(`${srv.url}/api/v1/repos/hub/offline?on=config`, { method: 'POST', headers: boss })).status, 200);
    assert.equal((await manifest('other')).status, 200, 'online again');
    assert.equal((await fetch(`${srv.url}/api/v1/repos/hub/offline?on=maybe`, { method: 'POST', headers: boss })).status, 400);
    assert.equal((await fetch(`${srv.url}/api/v1/repos/hub/offline?on=true`, { method: 'POST', headers: { authorization: basic('reader') } })).status, 403);
  });

  it('a runtime pin keeps content from eviction; a bad pattern is refused; unpin removes it', async () => {
    await srv.server.fills.idle();
    const cfg = srv.server.config.repos[0];
    assert.ok(cfg?.type === 'remote');
    cfg.cache.maxBytes = 1; // a budget nothing fits in, for the dry runs below
    const evicted = async (): Promise<string[]> => (await srv.server.evictor.run(true)).flatMap((r) => r.evicted);
    const before = await evicted();
    assert.ok(before.length > 0, 'without a pin, everything would go');
    const bad = await fetch(`${srv.url}/api/v1/repos/hub/pins?pattern=${encodeURIComponent('No Such:Pattern!')}`, { method: 'POST', headers: boss });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'INVALID');
    const pin = await fetch(`${srv.url}/api/v1/repos/hub/pins?pattern=${encodeURIComponent('library/tool:*')}`, { method: 'POST', headers: boss });
    assert.equal(pin.status, 200);
    assert.deepEqual(((await pin.json()) as { pins: { admin: string[] } }).pins.admin, ['library/tool:*']);
    const toolManifest = (await (await manifest('tool')).text()).length > 0;
    assert.ok(toolManifest);
    const after = await evicted();
    assert.ok(after.length < before.length, `the pinned image stays: ${after.length} < ${before.length}`);
    const unpin = await fetch(`${srv.url}/api/v1/repos/hub/pins?pattern=${encodeURIComponent('library/tool:*')}`, { method: 'DELETE', headers: boss });
    assert.equal(unpin.status, 200);
    assert.equal((await fetch(`${srv.url}/api/v1/repos/hub/pins?pattern=x`, { method: 'DELETE', headers: boss })).status, 404);
    assert.deepEqual((await evicted()).sort(), before.sort());
  });
});

describe('upstream health in the admin status (issue 14)', () => {
  let srv: TestServer;
  before(async () => {
    // Nothing listens on port 9: every upstream request fails, and the breaker opens after two.
    srv = await startServer({ config: { repos: [remoteRepo('dead', 'http://127.0.0.1:9', { upstream: { breakerFailures: 2, breakerOpenSeconds: 60 } })] } });
  });
  after(() => srv?.close());

  it('failures and an open breaker are counted apart and shown on the repositories page', async () => {
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${srv.url}/repo/dead/v2/x/manifests/t${i}`)).status, 503);
    const status = (await (await fetch(`${srv.url}/api/v1/repos/dead`)).json()) as { upstream_requests: Record<string, number> };
    assert.equal(status.upstream_requests['unavailable'], 2, JSON.stringify(status));
    assert.equal(status.upstream_requests['breaker_open'], 2, JSON.stringify(status));
    const page = await (await fetch(`${srv.url}/ui/`)).text();
    assert.match(page, /<span class="badge bad">0 ok, 4 failed, breaker opened<\/span>/);
  });
});
