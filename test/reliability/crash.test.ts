import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { pullImage } from '../helpers/pull.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls (every 2 ms) until `cond` holds: the kill waits for the operation to be visibly under way. */
async function until(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

const count = async (path: string): Promise<number> => (await readdir(path).catch(() => [])).length;

// kill -9 at the worst moments, then: the store passes fsck (every blob hashes to its name, no tag
// without its manifest, no local manifest without its blobs), temp files are gone, pulls work.
describe('crash consistency (kill -9)', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let up: FakeUpstream;
  let config: Record<string, unknown>;
  let configPath: string;
  let srv: ProcessServer | undefined;

  before(async () => {
    dir = await tempDir('crash-');
    up = await startFakeUpstream();
    config = {
      storage: { type: 'fs', path: join(dir.path, 'data') },
      log: { requests: false },
      gc: { graceMinutes: 0 },
      repos: [{ name: 'local', format: 'docker', type: 'local' }, { name: 'hub', format: 'docker', type: 'remote', upstream: { url: up.url }, cache: { maxBytes: 1 } }],
    };
    configPath = join(dir.path, 'config.json');
    await writeFile(configPath, JSON.stringify(config));
  });
  after(async () => {
    await srv?.stop('SIGKILL');
    await up?.close();
    await dir?.cleanup();
  });

  const start = async (): Promise<ProcessServer> => (srv = await startProcessServer('node', config, dir.path));
  const kill = async (): Promise<void> => {
    await srv?.stop('SIGKILL');
    srv = undefined;
  };
  async function consistent(): Promise<void> {
    const s = await start(); // boot removes temp files left by the crash
    assert.deepEqual(await readdir(join(dir.path, 'data', 'v1', 'tmp')).catch(() => []), []);
    await kill();
    const r = await cli(['fsck', '--verify-blobs', '--config', configPath]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    void s;
  }

  it('during a blob fill: no partial blob, and a re-pull is verified', async () => {
    const bytes = new Uint8Array(randomBytes(1_500_000));
    const d = sha256(bytes);
    up.blobs.set(d, bytes);
    up.behaviour.set(d, { kind: 'drip', chunk: 50_000, delayMs: 30 });
    const s = await start();
    const res = await fetch(`${s.url}/repo/hub/v2/x/blobs/${d}`);
    const reader = res.body?.getReader();
    await reader?.read();
    await kill();
    await reader?.cancel().catch(() => {});
    // Mid-fill for sure: its temp file is there and the blob is not (a drip of ~1 s, one chunk read).
    assert.equal(await count(join(dir.path, 'data', 'v1', 'tmp')), 1, 'the fill was under way when killed');
    assert.equal(await stat(join(dir.path, 'data', 'v1', 'blobs', 'sha256', d.slice(7, 9), d.slice(7))).catch(() => null), null);
    await consistent();
    up.behaviour.delete(d);
    const s2 = await start();
    const again = new Uint8Array(await (await fetch(`${s2.url}/repo/hub/v2/x/blobs/${d}`)).arrayBuffer());
    assert.equal(sha256(again), d);
    await kill();
  });

  it('during a chunked push: the session survives with what reached disk, and the push finishes', async () => {
    const data = new Uint8Array(randomBytes(2_000_000));
    const s = await start();
    const post = await fetch(`${s.url}/repo/local/v2/app/blobs/uploads/`, { method: 'POST' });
    const path = new URL(post.headers.get('location') ?? '', s.url).pathname;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (sent >= 1_000_000) return sleep(10_000);
        c.enqueue(data.subarray(sent, sent + 100_000));
        sent += 100_000;
        await sleep(20);
      },
    });
    const patch = fetch(`${s.url}${path}`, { method: 'PATCH', body, duplex: 'half' } as RequestInit).catch(() => null);
    const id = path.split('/').pop() ?? '';
    const dataFile = join(dir.path, 'data', 'v1', 'uploads', id, 'data');
    await until(async () => ((await stat(dataFile).catch(() => null))?.size ?? 0) > 0, 10_000, 'the first bytes on disk');
    await kill();
    // The body never ends (it stalls at 1 MB), so the PATCH cannot have completed: killed mid-request.
    assert.equal(await patch, null, 'the PATCH was in flight when killed');
    await consistent();
    const s2 = await start();
    const st = await fetch(`${s2.url}${path}`);
    assert.equal(st.status, 204);
    const have = Number((st.headers.get('range') ?? '0-0').split('-')[1]) + 1;
    const from = have > 1 ? have : 0;
    const rest = await fetch(`${s2.url}${path}`, { method: 'PATCH', body: data.subarray(from), headers: { 'content-range': `${from}-${data.byteLength - 1}` } });
    assert.equal(rest.status, 202);
    const put = await fetch(`${s2.url}${path}?digest=${sha256(data)}`, { method: 'PUT' });
    assert.equal(put.status, 201, await put.text());
    await kill();
  });

  it('during manifest and tag writes: every tag that survived resolves', async () => {
    const img = await makeImage({ layerSizes: [1000] });
    const s = await start();
    await pushImage(`${s.url}/repo/local`, 'many', 'base', img);
    const puts = Array.from({ length: 300 }, (_, i) =>
      fetch(`${s.url}/repo/local/v2/many/manifests/t${i}`, { method: 'PUT', body: img.manifest.bytes, headers: { 'content-type': img.manifest.mediaType } }).catch(() => null),
    );
    const tagsDir = join(dir.path, 'data', 'v1', 'repos', 'local', 'docker', 'many', '_tags');
    await until(async () => (await count(tagsDir)) >= 2, 20_000, 'the first tag writes');
    await kill();
    const done = (await Promise.all(puts)).filter((r) => r?.status === 201).length;
    assert.ok(done < 300, `killed while tag writes were in flight (${done} of 300 finished)`);
    await consistent();
    const s2 = await start();
    const tags = ((await (await fetch(`${s2.url}/repo/local/v2/many/tags/list`)).json()) as { tags: string[] }).tags;
    for (const t of tags) assert.equal((await fetch(`${s2.url}/repo/local/v2/many/manifests/${t}`, { method: 'HEAD' })).status, 200, t);
    await kill();
  });

  it('during gc and during eviction (offline runs killed halfway)', async () => {
    const s = await start();
    const imgs = await Promise.all(Array.from({ length: 24 }, () => makeImage({ layerSizes: [3000, 3000] })));
    for (const [i, img] of imgs.entries()) await pushImage(`${s.url}/repo/local`, `g/app${i}`, 'v1', img);
    for (const [i, img] of imgs.entries()) {
      if (i % 2 === 0) await fetch(`${s.url}/repo/local/v2/g/app${i}/manifests/${img.manifest.digest}`, { method: 'DELETE' });
      up.blobs.set(img.config.digest, img.config.bytes);
      for (const l of img.layers) up.blobs.set(l.digest, l.bytes);
      up.manifests.set(`r${i}`, { bytes: img.manifest.bytes, mediaType: img.manifest.mediaType });
      await pullImage(`${s.url}/repo/hub`, `r/app${i}`, `r${i}`);
    }
    await kill();
    // Plenty of work for each run (4000 unreferenced blobs, 3000 cached blob links nothing uses), so a
    // kill at its first visible deletion lands mid-run; the counts afterwards prove that it did.
    const data = join(dir.path, 'data', 'v1');
    const garbage = await writeBlobs(data, 4000);
    const firstPrefix = join(data, 'blobs', 'sha256', [...new Set(garbage.map((d) => d.slice(7, 9)))].sort()[0] ?? '00');
    const cachedLinks = join(data, 'repos', 'hub', 'docker', '_blobs', 'sha256');
    const cached = await writeBlobs(data, 3000);
    for (const d of cached) await writeFile(join(cachedLinks, d.slice(7)), JSON.stringify({ size: 40, linkedAt: 1 }));
    // `below`: a count of the watched folder that is only reached once one of `items` is gone (the
    // links folder also holds the pulled images' links, which eviction takes first).
    const runs: Array<{ args: string[]; watch: string; below: number; items: string[]; gone: (d: string) => Promise<boolean> }> = [
      { args: ['gc', '--config', configPath], watch: firstPrefix, below: await count(firstPrefix), items: garbage, gone: async (d) => !(await exists(blobPath(data, d))) },
      { args: ['cache', 'evict', '--config', configPath], watch: cachedLinks, below: cached.length, items: cached, gone: async (d) => !(await exists(join(cachedLinks, d.slice(7)))) },
    ];
    for (const run of runs) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'adapters/cli/main.ts'), ...run.args], { cwd: ROOT, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
      await until(async () => (await count(run.watch)) < run.below, 120_000, `${run.args[0]} to start deleting`);
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL', `${run.args[0]} was still running when killed`);
      const gone = (await Promise.all(run.items.map(run.gone))).filter(Boolean).length;
      assert.ok(gone > 0 && gone < run.items.length, `${run.args[0]} killed halfway: ${gone} of ${run.items.length} removed`);
      await consistent();
    }
    const s2 = await start();
    for (const [i, img] of imgs.entries()) {
      if (i % 2 === 1) assert.equal((await pullImage(`${s2.url}/repo/local`, `g/app${i}`, 'v1')).manifestDigest, img.manifest.digest);
      assert.equal((await pullImage(`${s2.url}/repo/hub`, `r/app${i}`, `r${i}`)).manifestDigest, img.manifest.digest);
    }
    await kill();
  });
});

const blobPath = (data: string, d: string): string => join(data, 'blobs', 'sha256', d.slice(7, 9), d.slice(7));
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => null)) !== null;

/** `n` small valid blobs written straight into the store (named by their sha256), as a fill leaves them. */
async function writeBlobs(data: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = randomBytes(40);
    const d = sha256(bytes);
    await mkdir(join(data, 'blobs', 'sha256', d.slice(7, 9)), { recursive: true });
    await writeFile(blobPath(data, d), bytes);
    out.push(d);
  }
  return out;
}
