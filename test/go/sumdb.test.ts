import assert from 'node:assert/strict';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goEnv, writeProxyTree } from '../helpers/gomod.ts';
import type { ModuleVersion } from '../helpers/gomod.ts';
import { run } from '../helpers/net.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { goSumLines, writeSumdb } from '../helpers/sumdb.ts';
import type { TestSumdb } from '../helpers/sumdb.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const DB = 'sum.test.example';
const mod = (path: string, version: string, pkg: string): ModuleVersion => ({
  path,
  version,
  files: { 'go.mod': `module ${path}\n\ngo 1.21\n`, [`${pkg}.go`]: `package ${pkg}\n\nfunc Name() string { return "${path}@${version}" }\n` },
});
const MODS = [mod('example.com/greet', 'v1.1.0', 'greet'), mod('example.com/Upper', 'v0.1.0', 'upper'), mod('example.com/third', 'v1.0.0', 'third'), mod('example.com/late', 'v1.2.0', 'late'), mod('example.com/private/secret', 'v1.0.0', 'secret')];

/** Every file under a folder, relative (to look for what the store kept). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

// Issue 11: the checksum-database proxy. The go command verifies modules through binaryrepo against
// a checksum database built from the note and tlog formats (signed with a key made for this test),
// cold and with the database stopped; a tampered record or tile is refused and never kept.
describe('Go checksum database proxy with the go command', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let db: TestSumdb;
  let homes = 0;

  before(async () => {
    work = await tempDir('go-sumdb-');
    const root = join(work.path, 'www');
    await writeProxyTree(join(root, 'proxy'), MODS);
    db = await writeSumdb(join(root, 'sumdb'), DB, MODS);
    // Two copies of the same database to tamper with: one lookup record, one full tile.
    for (const bad of ['badrecord', 'badtile']) await cp(join(root, 'sumdb'), join(root, bad), { recursive: true });
    const lookup = join(root, 'badrecord', 'lookup', 'example.com', 'greet@v1.1.0');
    const good = await readFile(lookup, 'utf8');
    await writeFile(lookup, good.replace(/ h1:[A-Za-z0-9+/]{43}=\n/, ` h1:${'A'.repeat(43)}=\n`));
    const tile = join(root, 'badtile', 'tile', '8', '0', '000');
    const bytes = new Uint8Array(await readFile(tile));
    const at = 32 * (db.ids.get('example.com/greet@v1.1.0') ?? 0);
    bytes[at] = (bytes[at] ?? 0) ^ 0x80;
    await writeFile(tile, bytes);
    ngx = await startStaticNginx(root, work.path);
    relay = await startRelay(ngx.url);
    const repo = (name: string, folder: string) => ({
      name,
      format: 'go',
      type: 'remote',
      upstream: { url: `${relay.url}/proxy`, breakerFailures: 1000 },
      sumdb: [{ key: db.key, url: `${relay.url}/${folder}` }],
      // /latest is asked again on every request: the stopped-database test then shows it served stale.
      cache: { sumdbTtlSeconds: 0 },
      private: ['example.com/private'],
    });
    br = await startServer({
      config: {
        repos: [repo('gomod', 'sumdb'), repo('gobadrecord', 'badrecord'), repo('gobadtile', 'badtile'), repo('gocoalesce', 'sumdb'), { name: 'goall', format: 'go', type: 'virtual', members: ['gomod'] }],
      },
    });
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => work?.cleanup()));

  /** `go get` of greet and Upper in a new module, with a fresh module and sumdb cache, verifying through `proxy`. */
  async function goGet(proxy: string) {
    const app = join(work.path, `app-${homes++}`);
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'go.mod'), 'module example.com/app\n\ngo 1.21\n');
    await writeFile(join(app, 'main.go'), 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/Upper"\n\t"example.com/greet"\n)\n\nfunc main() { fmt.Println(greet.Name(), upper.Name()) }\n');
    const env = goEnv(join(app, 'home'), join(work.path, 'gocache'), { GOPROXY: `${br.url}/repo/${proxy}`, GOSUMDB: db.key });
    const get = await run('go', ['get', 'example.com/greet@v1.1.0', 'example.com/Upper@v0.1.0'], { cwd: app, env, timeoutMs: 240_000 });
    const sum = await readFile(join(app, 'go.sum'), 'utf8').catch(() => '');
    return { ...get, sum, app, env };
  }

  it('the go command verifies modules through the proxy (cold: one upstream request per lookup and tile)', async () => {
    const r = await goGet('gomod');
    assert.equal(r.code, 0, r.stderr);
    for (const m of MODS.slice(0, 2)) for (const line of goSumLines(m).trim().split('\n')) assert.ok(r.sum.includes(line), `go.sum holds ${line}`);
    const build = await run('go', ['build', '-o', join(r.app, 'app'), '.'], { cwd: r.app, env: r.env, timeoutMs: 240_000 });
    assert.equal(build.code, 0, build.stderr);
    assert.equal(relay.count('GET', '/sumdb/lookup/example.com/greet@v1.1.0'), 1);
    assert.equal(relay.count('GET', '/sumdb/lookup/example.com/!upper@v0.1.0'), 1);
    const tiles = [...relay.requests].filter(([k]) => k.startsWith('GET /sumdb/tile/'));
    assert.ok(tiles.length > 0, 'tiles were fetched to verify the records');
    for (const [k, n] of tiles) assert.equal(n, 1, `${k} fetched once`);
    assert.equal(relay.count('GET', '/sumdb/supported'), 0, 'supported is our own answer');
  });

  it('warm, and with the database and proxy stopped, a fresh go command still verifies (through the virtual repo too)', async () => {
    const before = relay.count('GET', '/sumdb/lookup/');
    const warm = await goGet('gomod');
    assert.equal(warm.code, 0, warm.stderr);
    assert.equal(relay.count('GET', '/sumdb/lookup/'), before, 'lookups served from the cache');
    await ngx.stop();
    try {
      for (const proxy of ['gomod', 'goall']) {
        const r = await goGet(proxy);
        assert.equal(r.code, 0, `${proxy}: ${r.stderr}`);
      }
      const latest = await fetch(`${br.url}/repo/gomod/sumdb/${DB}/latest`);
      assert.equal(latest.status, 200);
      assert.equal(latest.headers.get('x-cache'), 'STALE');
      assert.equal(await latest.text(), await readFile(join(work.path, 'www', 'sumdb', 'latest'), 'utf8'));
    } finally {
      await ngx.restart();
    }
  });

  it('a tampered lookup record is refused, the go command reports it, and nothing is kept', async () => {
    const r = await goGet('gobadrecord');
    assert.notEqual(r.code, 0, 'go get must fail');
    assert.match(r.stderr, /failed verification/, r.stderr);
    const again = await fetch(`${br.url}/repo/gobadrecord/sumdb/${DB}/lookup/example.com/greet@v1.1.0`);
    assert.equal(again.status, 502);
    assert.match(await again.text(), /not record \d+ of the signed tree/);
    assert.ok(relay.count('GET', '/badrecord/lookup/example.com/greet@v1.1.0') >= 2, 'asked again: the bad answer was not kept');
    const kept = await filesUnder(join(br.dataDir, 'v1', 'repos', 'gobadrecord', 'go', '_sumdb'));
    assert.deepEqual(kept.filter((f) => f.includes('lookup') && f.includes('greet')), [], 'no lookup kept for greet');
    // The untampered module of the same database verifies and is kept.
    const upper = await fetch(`${br.url}/repo/gobadrecord/sumdb/${DB}/lookup/example.com/!upper@v0.1.0`);
    assert.equal(upper.status, 200, await upper.clone().text());
    assert.equal(await upper.text(), await readFile(join(work.path, 'www', 'sumdb', 'lookup', 'example.com', '!upper@v0.1.0'), 'utf8'));
  });

  it('a tampered full tile is refused, for lookups and tile requests alike, and never kept', async () => {
    const r = await goGet('gobadtile');
    assert.notEqual(r.code, 0, 'go get must fail');
    assert.match(r.stderr, /failed verification/, r.stderr);
    for (let i = 0; i < 2; i++) {
      const t = await fetch(`${br.url}/repo/gobadtile/sumdb/${DB}/tile/8/0/000`);
      assert.equal(t.status, 502);
      assert.match(await t.text(), /does not hash to the entry its parent tile holds/);
    }
    assert.ok(relay.count('GET', '/badtile/tile/8/0/000') >= 3, 'fetched again each time: never kept');
    const kept = await filesUnder(join(br.dataDir, 'v1', 'repos', 'gobadtile', 'go', '_sumdb'));
    assert.deepEqual(kept.filter((f) => /tile\/0\/0$/.test(f)), [], 'the bad tile is not in the store');
  });

  it('8 concurrent lookups of one uncached record: one upstream request', async () => {
    relay.reset();
    const path = `${br.url}/repo/gocoalesce/sumdb/${DB}/lookup/example.com/third@v1.0.0`;
    const bodies = await Promise.all(Array.from({ length: 8 }, async () => (await fetch(path)).text()));
    const want = await readFile(join(work.path, 'www', 'sumdb', 'lookup', 'example.com', 'third@v1.0.0'), 'utf8');
    for (const b of bodies) assert.equal(b, want);
    assert.equal(relay.count('GET', '/sumdb/lookup/example.com/third@v1.0.0'), 1);
  });

  it('serves verified data tiles and prefixes of partial tiles; bad paths, private modules and unknown databases get a clear 4xx', async () => {
    const data = await fetch(`${br.url}/repo/gomod/sumdb/${DB}/tile/8/data/000`);
    assert.equal(data.status, 200);
    assert.equal(await data.text(), await readFile(join(work.path, 'www', 'sumdb', 'tile', '8', 'data', '000'), 'utf8'));
    const width = db.size % 256;
    const full = new Uint8Array(await readFile(join(work.path, 'www', 'sumdb', 'tile', '8', '0', `00${Math.floor(db.size / 256)}.p`, String(width))));
    const narrow = await fetch(`${br.url}/repo/gomod/sumdb/${DB}/tile/8/0/00${Math.floor(db.size / 256)}.p/3`);
    assert.equal(narrow.status, 200);
    assert.deepEqual(new Uint8Array(await narrow.arrayBuffer()), full.slice(0, 96));
    const cases: Array<[string, number]> = [
      [`/sumdb/${DB}/supported`, 200],
      ['/sumdb/sum.golang.org/supported', 404],
      [`/sumdb/${DB}/tile/8/0/0000`, 400],
      [`/sumdb/${DB}/tile/8/0/000.p/256`, 400],
      [`/sumdb/${DB}/tile/8/5/000`, 404],
      [`/sumdb/${DB}/lookup/example.com/greet@1.1.0`, 400],
      [`/sumdb/${DB}/lookup/example.com/UPPER@v0.1.0`, 400],
      [`/sumdb/${DB}/lookup/example.com/private/secret@v1.0.0`, 404],
      [`/sumdb/${DB}/lookup/example.com/absent@v1.0.0`, 404],
      [`/sumdb/${DB}/nothing`, 404],
    ];
    for (const [p, status] of cases) {
      const r = await fetch(`${br.url}/repo/gomod${p}`);
      assert.equal(r.status, status, `${p}: ${await r.clone().text()}`);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/, p);
      await r.body?.cancel();
    }
    assert.equal(relay.count('GET', '/private/'), 0, 'the private module was never looked up upstream');
    const local = await fetch(`${br.url}/repo/gomod/sumdb/${DB}/latest`, { method: 'PUT', body: 'x' });
    assert.equal(local.status, 405);
  });
});
