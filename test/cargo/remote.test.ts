import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSparseTree, cargo, cargoHome, indexPathOf, sha256, writeApp, writeRegistryConfig } from '../helpers/cargo.ts';
import type { CrateSpec } from '../helpers/cargo.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The upstream's crates: features (with `dep:`), a renamed and a target-specific dependency, a yanked version, mixed case, 500 versions. */
export const UPSTREAM_CRATES: CrateSpec[] = [
  { name: 'leaf-a', vers: '1.0.0' },
  { name: 'leaf-a', vers: '1.1.0', padding: 200_000 },
  { name: 'leaf-a', vers: '1.2.0', yanked: true },
  { name: 'winonly', vers: '1.0.0' },
  { name: 'Upper_Name', vers: '0.1.0' },
  { name: 'feat-b', vers: '0.3.0', deps: [{ name: 'leaf-a', req: '^1', optional: true }], features: { default: [], extra: ['dep:leaf-a'], plain: [] } },
  { name: 'renamed-c', vers: '2.0.0', deps: [{ name: 'la', package: 'leaf-a', req: '^1.0' }] },
  { name: 'target-d', vers: '0.1.0', deps: [{ name: 'winonly', req: '^1', target: 'cfg(windows)' }] },
  ...Array.from({ length: 500 }, (_, i): CrateSpec => ({ name: 'many', vers: `1.0.${i}` })),
];

export const APP_DEPS = ['leaf-a = "1"', 'feat-b = { version = "0.3", features = ["extra"] }', 'renamed-c = "2"', 'target-d = "0.1"', 'Upper_Name = "0.1"', 'many = "1"'];

// Issue 28: a Cargo remote over a sparse registry built by the test (served by nginx), used by real cargo.
describe('Cargo remote: cargo fetch and build through a pull-through cache of a sparse index', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let files: Map<string, Uint8Array>;
  let runs = 0;
  const app = (): string => join(work.path, 'app');

  async function run(args: string[], index = `${br.url}/repo/crates/index/`): Promise<{ code: number; out: string; home: string }> {
    const home = await cargoHome(join(work.path, `home-${++runs}`), index);
    const r = await cargo(args, { cwd: app(), home });
    return { ...r, home };
  }

  before(async () => {
    work = await tempDir('cargo-remote-');
    const tree = join(work.path, 'up');
    files = await buildSparseTree(tree, UPSTREAM_CRATES);
    up = await startStaticNginx(tree, join(work.path, 'ngx'));
    relay = await startRelay(up.url);
    await writeRegistryConfig(tree, relay.url);
    br = await startServer({
      config: {
        repos: [{ name: 'crates', format: 'cargo', type: 'remote', upstream: { url: `${relay.url}/index`, breakerFailures: 1000 }, cache: { metadataTtlSeconds: 0 } }],
      },
    });
    await writeApp(app(), 'app', APP_DEPS);
    // The lock file is made against the upstream itself: the same lock then holds through the cache.
    const r = await run(['generate-lockfile'], `${up.url}/index/`);
    assert.equal(r.code, 0, r.out);
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('the lock file picks what cargo should: the newest unyanked leaf-a, the newest of 500 versions, the renamed and target-specific deps', async () => {
    const lock = await readFile(join(app(), 'Cargo.lock'), 'utf8');
    assert.match(lock, /name = "leaf-a"\nversion = "1\.1\.0"/);
    assert.match(lock, /name = "many"\nversion = "1\.0\.499"/);
    assert.match(lock, /name = "winonly"/);
    assert.match(lock, /name = "Upper_Name"/);
    assert.equal(lock.match(new RegExp(`checksum = "${sha256(files.get('leaf-a@1.1.0') ?? new Uint8Array())}"`, 'g'))?.length, 1);
  });

  it('cold: cargo fetch --locked downloads every crate through the remote, each once from the upstream, byte for byte', async () => {
    const r = await run(['fetch', '--locked']);
    assert.equal(r.code, 0, r.out);
    for (const c of ['leaf-a-1.1.0', 'feat-b-0.3.0', 'renamed-c-2.0.0', 'target-d-0.1.0', 'Upper_Name-0.1.0', 'many-1.0.499', 'winonly-1.0.0']) {
      const name = c.slice(0, c.lastIndexOf('-'));
      assert.equal(relay.count('GET', `/crates/${name}/${c}.crate`), 1, c);
    }
    const cache = join(r.home, 'registry', 'cache');
    const [dir] = await readdir(cache);
    assert.deepEqual(new Uint8Array(await readFile(join(cache, dir ?? '', 'leaf-a-1.1.0.crate'))), files.get('leaf-a@1.1.0'));
    assert.equal(relay.count('GET', `/index/${indexPathOf('many')}`), 1);
  });

  it('the remote index file is the upstream file byte for byte (every upstream version listed), with an ETag cargo revalidates', async () => {
    const mine = await fetch(`${br.url}/repo/crates/index/${indexPathOf('many')}`);
    assert.equal(mine.status, 200);
    const body = new Uint8Array(await mine.arrayBuffer());
    assert.deepEqual(body, new Uint8Array(await readFile(join(work.path, 'up', 'index', indexPathOf('many')))));
    assert.equal(new TextDecoder().decode(body).trim().split('\n').length, 500);
    const etag = mine.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${br.url}/repo/crates/index/${indexPathOf('many')}`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });

  it('warm: a fresh CARGO_HOME builds the app with no crate asked upstream again', async () => {
    const before = new Map(relay.requests);
    const r = await run(['build', '--locked']);
    assert.equal(r.code, 0, r.out);
    const again = [...relay.requests].filter(([k, n]) => k.includes('/crates/') && n !== (before.get(k) ?? 0));
    assert.deepEqual(again, []);
  });

  it('a name nobody has is a cheap 404 (cargo probes the -/_ spellings), remembered: the upstream is asked once', async () => {
    const path = `/index/${indexPathOf('no-such-crate')}`;
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${br.url}/repo/crates${path}`)).status, 404);
    assert.equal(relay.count('GET', path), 1);
    // Not an index path at all (upper case, a wrong folder): refused without asking.
    assert.equal((await fetch(`${br.url}/repo/crates/index/le/af/Leaf-a`)).status, 404);
    assert.equal((await fetch(`${br.url}/repo/crates/index/xx/yy/leaf-a`)).status, 404);
    assert.equal(relay.count('GET', '/index/xx/yy/leaf-a'), 0);
  });

  it('config.json points cargo at this server, whatever the upstream says', async () => {
    const j = (await (await fetch(`${br.url}/repo/crates/index/config.json`)).json()) as { dl: string; api: string };
    assert.equal(j.dl, `${br.url}/repo/crates/api/v1/crates`);
    assert.equal(j.api, `${br.url}/repo/crates`);
  });
  it('with the upstream stopped, a fresh CARGO_HOME still fetches everything (index files served stale, crates from the cache)', async () => {
    await up.stop();
    try {
      const r = await run(['fetch', '--locked']);
      assert.equal(r.code, 0, r.out);
      const res = await fetch(`${br.url}/repo/crates/index/${indexPathOf('leaf-a')}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-cache'), 'STALE');
    } finally {
      await up.restart();
    }
  });
});
