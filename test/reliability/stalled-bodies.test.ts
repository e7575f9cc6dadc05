import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { authConfig, basic } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** A POST whose headers promise a body it never finishes sending: the socket, and its first answer (or close). */
function stalledPost(url: string, path: string, type: string, method = 'POST', authorization = ''): { socket: Socket; answer: Promise<string> } {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\ncontent-type: ${type}\r\n${authorization ? `authorization: ${authorization}\r\n` : ''}content-length: 1000\r\n\r\nuser=a`);
  const answer = new Promise<string>((res) => {
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('close', () => res(got));
    socket.on('error', () => res(got));
  });
  return { socket, answer };
}

/** Resolves with what `p` gave, or with 'still open' after `ms` (a bound on the wait, not a synchronisation). */
const within = <T,>(p: Promise<T>, ms: number): Promise<T | 'still open'> =>
  Promise.race([p, new Promise<'still open'>((r) => setTimeout(() => r('still open'), ms).unref())]);

// Issue 24, 14: UI form bodies and admin JSON bodies had no idle timeout (a stalled POST stayed
// open for 200 s and more), and nothing bounded the bodies one address could hold open, so 20,000
// stalled anonymous /ui/login POSTs exhausted the server's file descriptors.
describe('stalled request bodies', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({
      config: {
        auth: await authConfig(),
        http: { bodyIdleSeconds: 1, maxBodiesPerClient: 4 },
        repos: [{ name: 'files', format: 'generic', type: 'local' }],
      },
    });
  });
  after(() => br?.close());
  const bodiesInFlight = async (): Promise<number> => {
    const text = await (await fetch(`${br.url}/metrics`, { headers: { authorization: basic('boss') } })).text();
    return Number(/^binaryrepo_request_bodies_in_flight (\d+)/m.exec(text)?.[1] ?? 0);
  };

  it('a stalled /ui/login form and a stalled admin JSON body are answered and closed after the body idle timeout', async () => {
    const ui = stalledPost(br.url, '/ui/login', 'application/x-www-form-urlencoded');
    const api = stalledPost(br.url, '/api/v1/repos/x/warm', 'application/json');
    try {
      const [a, b] = await Promise.all([within(ui.answer, 15_000), within(api.answer, 15_000)]);
      assert.notEqual(a, 'still open', 'the UI form body was given up');
      assert.notEqual(b, 'still open', 'the admin body was given up');
    } finally {
      ui.socket.destroy();
      api.socket.destroy();
    }
  });

  it('one address holds at most maxBodiesPerClient bodies open; the next gets 429 before its body is read', async () => {
    const held = Array.from({ length: 4 }, () => stalledPost(br.url, '/ui/login', 'application/x-www-form-urlencoded'));
    try {
      // The four are in flight once the server counts them: the fifth is refused at once.
      const deadline = Date.now() + 10_000;
      let status = 0;
      let text = '';
      while (Date.now() < deadline) {
        const r = await fetch(`${br.url}/repo/files/x.txt`, { method: 'PUT', body: 'x' });
        status = r.status;
        text = await r.text();
        if (status === 429) break;
      }
      assert.equal(status, 429, text);
      assert.match(text, /more than 4 uploads in flight from this address/);
      // Given back when they end: the stalled ones time out, then a PUT goes through again.
      await Promise.all(held.map((h) => within(h.answer, 15_000)));
      const ok = await fetch(`${br.url}/repo/files/x.txt`, { method: 'PUT', body: 'x' });
      assert.equal(ok.status, 401, 'admitted (and asked for credentials)');
    } finally {
      for (const h of held) h.socket.destroy();
    }
  });

  // Issue 24, 29: each aborted stalled UI login logged a 500 request line plus an "Error: aborted"
  // line. A client that leaves is logged once, as 499, and nothing at error level.
  it('a client that leaves mid-body is one request line with status 499, no error line', async () => {
    const before = br.logs.length;
    for (const [path, type, method] of [['/ui/login', 'application/x-www-form-urlencoded', 'POST'], ['/repo/files/gone.bin', 'application/octet-stream', 'PUT']] as const) {
      const s = stalledPost(br.url, path, type, method, method === 'PUT' ? basic('boss') : '');
      // Left once the server is receiving the body (its gauge says so), not before it saw the request.
      for (const deadline = Date.now() + 10_000; (await bodiesInFlight()) < 1 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      s.socket.destroy();
      await within(s.answer, 5_000);
    }
    const deadline = Date.now() + 10_000;
    const lines = (): Array<Record<string, unknown>> => br.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
    while (lines().filter((l) => l['msg'] === 'request' && l['path'] !== '/metrics').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const reqs = lines().filter((l) => l['msg'] === 'request' && l['path'] !== '/metrics');
    assert.deepEqual(reqs.map((l) => [l['path'], l['status']]).sort(), [['/repo/files/gone.bin', 499], ['/ui/login', 499]]);
    assert.deepEqual(lines().filter((l) => l['level'] === 'error'), []);
  });
});
