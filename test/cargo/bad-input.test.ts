import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { crateFile, indexPathOf, manifestOf, publishFrame } from '../helpers/cargo.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

// Issue 28: hostile publishes and paths get a clear error in the registry's JSON shape, and nothing is stored.
describe('Cargo: bad publishes and paths', () => {
  let br: TestServer;
  let before0: string[];
  const put = (repo: string, body: Uint8Array): Promise<Response> => fetch(`${br.url}/repo/${repo}/api/v1/crates/new`, { method: 'PUT', body });
  const detail = async (res: Response): Promise<string> => ((await res.json()) as { errors: Array<{ detail: string }> }).errors[0]?.detail ?? '';
  const meta = (name: string, vers = '1.0.0'): Record<string, unknown> => ({ name, vers, deps: [] });

  before(async () => {
    br = await startServer({
      config: {
        repos: [
          { name: 'corp', format: 'cargo', type: 'local' },
          { name: 'small', format: 'cargo', type: 'local', maxCrateBytes: 2048, maxMetadataBytes: 1024 },
        ],
      },
    });
    // A good publish first, so the store has its folders and "nothing stored" compares like with like.
    const ok = await put('corp', publishFrame(meta('fine'), await crateFile({ name: 'fine', vers: '1.0.0' })));
    assert.equal(ok.status, 200, await ok.text());
    before0 = await filesUnder(br.dataDir);
  });

  after(() => br?.close());

  const cases: Array<[string, () => Promise<Uint8Array>, number, RegExp, string?]> = [
    ['a metadata length past the body', async () => publishFrame(meta('a1'), await crateFile({ name: 'a1', vers: '1.0.0' }), { json: 1 << 19 }), 400, /ended inside the metadata/],
    ['a crate length past the body', async () => publishFrame(meta('a2'), await crateFile({ name: 'a2', vers: '1.0.0' }), { crate: 1 << 20 }), 400, /ended inside the crate/],
    ['bytes after the crate', async () => { const c = await crateFile({ name: 'a3', vers: '1.0.0' }); return publishFrame(meta('a3'), c, { crate: c.byteLength - 10 }); }, 400, /after the crate/],
    ['metadata that is not JSON', async () => { const f = publishFrame(meta('a4'), new Uint8Array(10)); f.set(new TextEncoder().encode('{{'), 4); return f; }, 400, /not JSON/],
    ['metadata without a version', async () => publishFrame({ name: 'a5', deps: [] }, await crateFile({ name: 'a5', vers: '1.0.0' })), 400, /not valid at vers/],
    ['a version that is not SemVer', async () => publishFrame(meta('a6', '1.0'), await crateFile({ name: 'a6', vers: '1.0' })), 400, /not a SemVer/],
    ['a name starting with a digit', async () => publishFrame(meta('1abc'), await crateFile({ name: '1abc', vers: '1.0.0' })), 400, /invalid crate name/],
    ['a Windows device name', async () => publishFrame(meta('con'), await crateFile({ name: 'con', vers: '1.0.0' })), 400, /reserved/],
    ['a name with a slash', async () => publishFrame(meta('a/b'), new Uint8Array(10)), 400, /invalid crate name/],
    ['a name of 65 characters', async () => publishFrame(meta(`a${'b'.repeat(64)}`), new Uint8Array(10)), 400, /invalid crate name/],
    ['a crate for another name', async () => publishFrame(meta('a7'), await crateFile({ name: 'other', vers: '1.0.0' })), 400, /top folder is "other-1\.0\.0"/],
    ['a Cargo.toml naming another package', async () => publishFrame(meta('a8'), await crateFile({ name: 'a8', vers: '1.0.0' }, manifestOf({ name: 'a9', vers: '1.0.0' }))), 400, /names package "a9"/],
    ['a Cargo.toml of another version', async () => publishFrame(meta('b1'), await crateFile({ name: 'b1', vers: '1.0.0' }, manifestOf({ name: 'b1', vers: '2.0.0' }))), 400, /version "2\.0\.0"/],
    ['a crate that is not gzip', async () => publishFrame(meta('b2'), new TextEncoder().encode('not a tarball at all')), 400, /not a gzip-compressed tar/],
    ['a tarball with a path out of its folder', async () => publishFrame(meta('b3'), new Uint8Array(gzipSync(tarWith('b3-1.0.0/../../evil', 'x')))), 400, /unsafe path/],
    ['a crate over maxCrateBytes', async () => publishFrame(meta('b4'), new Uint8Array(4096)), 413, /at most 2048/, 'small'],
    ['metadata over maxMetadataBytes', async () => publishFrame({ ...meta('b5'), description: 'x'.repeat(2000) }, new Uint8Array(10)), 400, /at most 1024/, 'small'],
  ];

  for (const [what, body, status, message, repo] of cases) {
    it(`${what}: ${status}, said in the errors JSON`, async () => {
      const res = await put(repo ?? 'corp', await body());
      assert.equal(res.status, status);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.match(await detail(res), message);
    });
  }

  it('nothing of those publishes was stored: the same files as before, and no index file for their names', async () => {
    assert.deepEqual(await filesUnder(br.dataDir), before0);
    for (const n of ['a1', 'a2', 'a3', 'a7', 'other', 'a8', 'b1', 'b3']) assert.equal((await fetch(`${br.url}/repo/corp/index/${indexPathOf(n)}`)).status, 404, n);
  });

  it('paths that leave their place are refused, never resolved', async () => {
    for (const p of ['/api/v1/crates/..%2F..%2Fetc/1.0.0/download', '/api/v1/crates/fine/..%2F..%2F1.0.0/download', '/api/v1/crates/fine/1.0.0%00/download']) {
      const res = await fetch(`${br.url}/repo/corp${p}`);
      assert.equal(res.status, 400, p);
      assert.match(await detail(res), /invalid/);
    }
    for (const p of ['/index/../../../etc/passwd', '/index/fi/ne/fine/../x', '/index/FI/NE/FINE']) assert.equal((await fetch(`${br.url}/repo/corp${p}`)).status, 404, p);
    assert.equal((await fetch(`${br.url}/repo/corp/index/${indexPathOf('fine')}`)).status, 200);
  });
});

/** A one-file tar (ustar header by hand: the path must reach the server unchanged). */
function tarWith(name: string, text: string): Uint8Array {
  const body = new TextEncoder().encode(text);
  const h = new Uint8Array(512);
  const put = (s: string, at: number): void => h.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put('0000644\0', 100);
  put('0000000\0', 108);
  put('0000000\0', 116);
  put(`${body.byteLength.toString(8).padStart(11, '0')}\0`, 124);
  put('00000000000\0', 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0' + '00', 257);
  const sum = h.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const out = new Uint8Array(512 + 512 + 1024);
  out.set(h, 0);
  out.set(body, 512);
  return out;
}
