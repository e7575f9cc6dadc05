import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LoginGuard } from '../../src/auth/login-guard.ts';
import { authConfig, basic } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const local = (name: string, permissions: Record<string, string[]>) => ({ name, format: 'docker', type: 'local', permissions });
const wrong = (user: string): string => `Basic ${Buffer.from(`${user}:not-the-password`).toString('base64')}`;

/** Sends raw bytes on a fresh connection; resolves with everything the server sent until it closed. */
function raw(url: string, text: string): Promise<{ answer: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname, () => sock.write(text));
    let answer = '';
    sock.on('data', (d) => (answer += d.toString()));
    sock.on('close', () => resolve({ answer, closed: true }));
    sock.on('error', reject);
  });
}

// Issue 9, items 1 and 3: the token endpoint and password checks cannot be used to exhaust us.
describe('login limits and token request bodies', () => {
  let srv: TestServer;

  before(async () => {
    srv = await startServer({
      config: {
        http: { bodyIdleSeconds: 1 },
        auth: await authConfig({ failedLogins: { perAddress: 6, perUser: 4, windowSeconds: 60 } }),
        repos: [local('team', { read: ['reader'], write: ['writer'] })],
      },
    });
  });
  after(() => srv?.close());

  it('POST /token refuses a body over 64 KiB (announced or not) without holding it', async () => {
    const announced = await raw(srv.url, 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 300000000\r\n\r\ngrant_type=password');
    assert.match(announced.answer, /^HTTP\/1\.1 413 /);
    const big = new Uint8Array(1024 * 1024).fill(0x61);
    const chunked = await fetch(`${srv.url}/token`, { method: 'POST', body: new Blob([big]).stream(), duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 413);
    await chunked.body?.cancel();
  });

  it('a token request that announces a body and sends nothing is answered and closed after bodyIdleSeconds', async () => {
    const silent = await raw(srv.url, 'POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n');
    assert.match(silent.answer, /^HTTP\/1\.1 400 /);
    assert.match(silent.answer, /no bytes received/);
    assert.ok(silent.closed);
  });

  it('unknown users cost a password check like known ones', async () => {
    const before = srv.server.access.passwordChecks;
    const r = await fetch(`${srv.url}/repo/team/v2/app/tags/list`, { headers: { authorization: wrong('nobody-here') } });
    assert.equal(r.status, 401);
    await r.body?.cancel();
    assert.equal(srv.server.access.passwordChecks, before + 1);
  });

  it('too many failures for one user → 429 with Retry-After, before any hashing; remembered good logins still work', async () => {
    const good = await fetch(`${srv.url}/repo/team/v2/`, { headers: { authorization: basic('reader') } });
    assert.equal(good.status, 200);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${srv.url}/repo/team/v2/`, { headers: { authorization: wrong('writer') } });
      assert.equal(r.status, 401, `attempt ${i}`);
      await r.body?.cancel();
    }
    const checks = srv.server.access.passwordChecks;
    const limited = await fetch(`${srv.url}/repo/team/v2/`, { headers: { authorization: wrong('writer') } });
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'TOOMANYREQUESTS');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(srv.server.access.passwordChecks, checks, 'no hash was computed for the refused attempt');
    const token = await fetch(`${srv.url}/token?service=binaryrepo`, { headers: { authorization: wrong('writer') } });
    assert.equal(token.status, 429, 'the token endpoint applies the same limit');
    await token.body?.cancel();
    const still = await fetch(`${srv.url}/repo/team/v2/`, { headers: { authorization: basic('reader') } });
    assert.equal(still.status, 200, 'a login remembered from before is not refused');
  });

  it('too many failures from one address → 429 whatever user name it tries next', async () => {
    let status = 0;
    for (let i = 0; i < 10 && status !== 429; i++) {
      const r = await fetch(`${srv.url}/repo/team/v2/`, { headers: { authorization: wrong(`rotating-${i}`) } });
      status = r.status;
      await r.body?.cancel();
    }
    assert.equal(status, 429);
  });

  it('at most two password hashes run at once, however many arrive', async () => {
    const guard = new LoginGuard({ perAddress: 1000, perUser: 1000, windowMs: 60_000 }, Date.now);
    let running = 0;
    let peak = 0;
    const verify = async (): Promise<boolean> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return false;
    };
    await Promise.all(Array.from({ length: 16 }, (_, i) => guard.check(`10.0.0.${i}`, `u${i}`, verify)));
    assert.equal(peak, 2);
    assert.equal(guard.checksRun, 16);
  });
});
