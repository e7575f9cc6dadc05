import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { runMaintenance } from '../../src/jobs/maintenance.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

type OciBody = { errors: Array<{ code: string }> };

/** A request body we feed by hand: `send` pushes bytes, `end` finishes it. */
function manualBody(): { stream: ReadableStream<Uint8Array>; send: (b: Uint8Array) => void; end: () => void } {
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
  return { stream, send: (b) => ctl.enqueue(b), end: () => ctl.close() };
}

// Issue 9, items 7, 8 and 9: what a pushing client can make us hold, and whom it can slow down.
describe('push bounds: quota while bytes arrive, sessions, referrers, the gc lock', () => {
  let srv: TestServer;
  let dataDir: string;
  const base = (repo: string): string => `${srv.url}/repo/${repo}`;

  before(async () => {
    srv = await startServer({
      config: {
        gc: { graceMinutes: 0 },
        repos: [
          { name: 'q', format: 'docker', type: 'local', maxBytes: 1_000_000, maxUploadSessions: 5 },
          { name: 'free', format: 'docker', type: 'local' },
          { name: 'other', format: 'docker', type: 'local' },
        ],
      },
    });
    dataDir = srv.dataDir;
  });
  after(() => srv?.close());

  const inStore = async (d: string): Promise<boolean> => {
    const p = parseDigest(d);
    assert.ok(p.ok);
    return (await srv.server.blobs.stat(p.digest)) !== null;
  };

  it('a PATCH past the quota is refused while it arrives and taken back (7)', async () => {
    const start = await fetch(`${base('q')}/v2/big/blobs/uploads/`, { method: 'POST' });
    assert.equal(start.status, 202);
    const loc = new URL(start.headers.get('location') ?? '', srv.url);
    const patch = await fetch(loc, { method: 'PATCH', body: randomBytes(3_000_000), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(patch.status, 403);
    assert.equal(((await patch.json()) as OciBody).errors[0]?.code, 'DENIED');
    const status = await fetch(loc);
    assert.equal(status.headers.get('range'), '0-0', 'nothing of the refused chunk stays in the session');
    await fetch(loc, { method: 'DELETE' });
  });

  it('a monolithic push past the quota leaves no blob behind (7)', async () => {
    const bytes = randomBytes(2_000_000);
    const r = await fetch(`${base('q')}/v2/big/blobs/uploads/?digest=${sha256(bytes)}`, { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 403);
    await r.body?.cancel();
    assert.equal(await inStore(sha256(bytes)), false);
  });

  it('open upload sessions per repo are capped: 429 past the limit, room again once one is cancelled (7)', async () => {
    const locs: URL[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${base('q')}/v2/s${i}/blobs/uploads/`, { method: 'POST' });
      assert.equal(r.status, 202);
      locs.push(new URL(r.headers.get('location') ?? '', srv.url));
    }
    const over = await fetch(`${base('q')}/v2/s9/blobs/uploads/`, { method: 'POST' });
    assert.equal(over.status, 429);
    assert.equal(((await over.json()) as OciBody).errors[0]?.code, 'TOOMANYREQUESTS');
    assert.equal((await fetch(`${base('free')}/v2/s9/blobs/uploads/`, { method: 'POST' })).status, 202, 'other repos are not affected');
    const first = locs[0];
    assert.ok(first);
    assert.equal((await fetch(first, { method: 'DELETE' })).status, 204);
    assert.equal((await fetch(`${base('q')}/v2/s9/blobs/uploads/`, { method: 'POST' })).status, 202);
  });

  it('referrer descriptors carry bounded annotations; the list survives a restart (8)', async () => {
    const subject: TestImage = await makeImage({ layerSizes: [100], oci: true });
    await pushImage(base('free'), 'app', 'v1', subject);
    const huge = { 'org.example.blob': 'x'.repeat(1024 * 1024) };
    for (let i = 0; i < 3; i++) {
      const art = await makeImage({ layerSizes: [50], oci: true, subject: subject.manifest, annotations: { ...huge, n: String(i) } });
      await pushImage(base('free'), 'app', `sig${i}`, art);
    }
    const small = await makeImage({ layerSizes: [60], oci: true, subject: subject.manifest, annotations: { note: 'small' } });
    await pushImage(base('free'), 'app', 'sbom', small);
    const list = async (): Promise<Array<{ annotations?: Record<string, string> }>> => {
      const r = await fetch(`${base('free')}/v2/app/referrers/${subject.manifest.digest}`);
      assert.equal(r.status, 200);
      return ((await r.json()) as { manifests: Array<{ annotations?: Record<string, string> }> }).manifests;
    };
    const got = await list();
    assert.equal(got.length, 4);
    assert.ok(got.every((d) => JSON.stringify(d).length < 20_000), 'no descriptor copies the megabyte');
    assert.ok(got.some((d) => d.annotations?.['note'] === 'small'), 'small annotations are kept');
    const again = await startServer({ dataDir, config: { repos: [{ name: 'free', format: 'docker', type: 'local' }] } });
    try {
      const r = await fetch(`${again.url}/repo/free/v2/app/referrers/${subject.manifest.digest}`);
      assert.equal(r.status, 200);
      assert.equal(((await r.json()) as { manifests: unknown[] }).manifests.length, 4);
    } finally {
      await again.close();
    }
  });

  it("a slow push does not hold the gc lock: gc and another repo's push go on meanwhile (9)", async () => {
    const bytes = new Uint8Array(randomBytes(300_000));
    const body = manualBody();
    const slow = fetch(`${base('free')}/v2/slow/blobs/uploads/?digest=${sha256(bytes)}`, {
      method: 'POST',
      body: body.stream,
      duplex: 'half',
      headers: { 'content-type': 'application/octet-stream' },
    } as RequestInit);
    body.send(bytes.subarray(0, 1000));
    // The push is mid-body. gc (exclusive lock) must be able to run, and a push elsewhere must finish.
    const gcDone = runMaintenance(srv.server, true);
    const other = await makeImage({ layerSizes: [3000] });
    await pushImage(base('other'), 'quick', 'v1', other);
    await gcDone;
    body.send(bytes.subarray(1000));
    body.end();
    const r = await slow;
    assert.equal(r.status, 201);
    assert.equal(await inStore(sha256(bytes)), true);
  });
});
