import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peakRssMb } from '../../bench/memory.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { closeAll } from '../helpers/teardown.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Misbehaving clients against a real server process with short timeouts.
describe('clients that disconnect, dawdle or pile up', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let srv: ProcessServer;
  let layer: { digest: string; bytes: Uint8Array };
  const base = (): string => `${srv.url}/repo/local/v2/app`;

  before(async () => {
    dir = await tempDir('clients-rel-');
    srv = await startProcessServer('node', {
      storage: { type: 'fs', path: join(dir.path, 'data') },
      log: { requests: false },
      http: { headersTimeoutSeconds: 2, bodyIdleSeconds: 2, keepAliveSeconds: 5 },
      repos: [{ name: 'local', format: 'docker', type: 'local' }],
    }, dir.path);
    const img = await makeImage({ layerSizes: [5_000_000] });
    await pushImage(`${srv.url}/repo/local`, 'app', 'v1', img);
    const l = img.layers[0];
    assert.ok(l);
    layer = l;
  });
  after(() => closeAll(() => srv?.stop(), () => dir?.cleanup()));

  const openFds = async (): Promise<number> => (await readdir(`/proc/${srv.child.pid}/fd`)).length;

  it('downloads dropped halfway leak no file handles', async () => {
    const before_ = await openFds();
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const ac = new AbortController();
        const res = await fetch(`${base()}/blobs/${layer.digest}`, { signal: ac.signal });
        const reader = res.body?.getReader();
        await reader?.read();
        ac.abort();
      }),
    );
    let now = 0;
    for (let i = 0; i < 50; i++) {
      now = await openFds();
      if (now <= before_ + 2) break;
      await sleep(100);
    }
    assert.ok(now <= before_ + 2, `fds before ${before_}, after ${now}`);
    const ok = new Uint8Array(await (await fetch(`${base()}/blobs/${layer.digest}`)).arrayBuffer());
    assert.equal(sha256(ok), layer.digest);
  });

  it('an upload dropped mid-chunk keeps the session at its last whole chunk; it resumes', async () => {
    const data = new Uint8Array(randomBytes(3_000_000));
    const post = await fetch(`${base()}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(post.headers.get('location') ?? '', srv.url);
    assert.equal((await fetch(loc, { method: 'PATCH', body: data.subarray(0, 1_000_000), headers: { 'content-range': '0-999999' } })).status, 202);
    const ac = new AbortController();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= 500_000) {
          ac.abort();
          return;
        }
        c.enqueue(data.subarray(1_000_000 + sent, 1_000_000 + sent + 100_000));
        sent += 100_000;
        await sleep(10);
      },
    });
    await fetch(loc, { method: 'PATCH', body, duplex: 'half', signal: ac.signal } as RequestInit).catch(() => null);
    let range = '';
    for (let i = 0; i < 30 && range !== '0-999999'; i++) {
      range = (await fetch(loc)).headers.get('range') ?? '';
      if (range !== '0-999999') await sleep(100);
    }
    assert.equal(range, '0-999999', 'the broken chunk was taken back');
    assert.equal((await fetch(loc, { method: 'PATCH', body: data.subarray(1_000_000), headers: { 'content-range': '1000000-2999999' } })).status, 202);
    loc.searchParams.set('digest', sha256(data));
    assert.equal((await fetch(loc, { method: 'PUT' })).status, 201);
  });

  it('a push body that goes silent fails after bodyIdleSeconds; the session stays usable', async () => {
    const post = await fetch(`${base()}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(post.headers.get('location') ?? '', srv.url);
    // Raw bytes: 1000 of the 2000 announced, then silence. The answer must come, and be the push's error.
    const s = connect(Number(loc.port), loc.hostname);
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    let answer = '';
    s.on('data', (d: Buffer) => (answer += d.toString()));
    const t0 = Date.now();
    s.write(`PATCH ${loc.pathname} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000\r\n\r\n`);
    s.write(new Uint8Array(1000));
    for (let i = 0; i < 400 && !answer.includes('BLOB_UPLOAD_INVALID'); i++) await sleep(20);
    const took = Date.now() - t0;
    s.destroy();
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /BLOB_UPLOAD_INVALID/);
    assert.ok(took < 8000, `answered after ${took} ms`);
    assert.equal((await fetch(loc)).status, 204);
  });

  it('slow headers (slowloris) are cut off after headersTimeoutSeconds', async () => {
    const port = Number(new URL(srv.url).port);
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {}); // EPIPE once the server hangs up is the expected outcome
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now())));
    const t0 = Date.now();
    s.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 300);
    const end = await Promise.race([closed, sleep(10_000).then(() => 0)]);
    clearInterval(drip);
    s.destroy();
    assert.ok(end > 0 && end - t0 < 8000, `closed after ${end ? end - t0 : 'never'} ms`);
  });

  it('2000 idle connections: the server keeps answering, memory stays bounded', async () => {
    const port = Number(new URL(srv.url).port);
    const sockets: Socket[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(300);
    try {
      const t0 = Date.now();
      for (let i = 0; i < 20; i++) assert.equal((await fetch(`${base()}/manifests/v1`, { method: 'HEAD' })).status, 200);
      assert.ok(Date.now() - t0 < 5000, 'answers stay fast');
      const rss = await peakRssMb(srv.child.pid ?? 0);
      assert.ok(rss < 400, `peak RSS ${rss} MB`);
    } finally {
      for (const s of sockets) s.destroy();
    }
  });
});
