import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSparseTree, cargo, cargoHome, indexPathOf, publishFrame, sha256, writeApp, writeLib, writeRegistryConfig } from '../helpers/cargo.ts';
import { authConfig, basic } from '../helpers/auth.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 28: cargo login, publish, yank and owner against a hosted Cargo repo behind auth, and a build through the virtual.
describe('Cargo local and virtual: cargo publish, yank, owner, auth-required', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let up: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  const tokens: Record<string, string> = {};
  let runs = 0;
  const index = (repo: string): string => `${br.url}/repo/${repo}/index/`;

  /** A fresh CARGO_HOME: crates.io replaced by the virtual, `cargo` naming it too; logged in with `token` when given. */
  async function home(token?: string): Promise<string> {
    const h = await cargoHome(join(work.path, `home-${++runs}`), index('cargo'), {}, 'cargo');
    if (token) {
      const r = await cargo(['login', '--registry', 'cargo'], { cwd: work.path, home: h, input: `${token}\n` });
      assert.equal(r.code, 0, r.out);
    }
    return h;
  }

  async function newToken(user: 'writer' | 'reader' | 'boss', actions: string[]): Promise<string> {
    const res = await fetch(`${br.url}/api/v1/tokens`, { method: 'POST', headers: { authorization: basic(user), 'content-type': 'application/json' }, body: JSON.stringify({ name: `cargo ${user}`, repos: ['corp', 'cargo', 'crates'], actions, expiresInDays: 1 }) });
    const text = await res.text();
    assert.equal(res.status, 201, text);
    return (JSON.parse(text) as { token: string }).token;
  }

  before(async () => {
    work = await tempDir('cargo-local-');
    const tree = join(work.path, 'up');
    await mkdir(tree, { recursive: true });
    up = await startStaticNginx(tree, join(work.path, 'ngx'));
    relay = await startRelay(up.url);
    await writeRegistryConfig(tree, relay.url);
    // The public registry (crates made by cargo package) has a crate of the name the company hosts: it must never be answered for it.
    await buildSparseTree(tree, [{ name: 'leaf-a', vers: '1.0.0' }, { name: 'leaf-a', vers: '1.1.0' }, { name: 'corp-util', vers: '9.9.9' }], { index: `${up.url}/index/`, work: join(work.path, 'pkg'), names: new Set(['leaf-a', 'corp-util']) });
    const perms = { read: ['authenticated'], write: ['writer', 'reader'], delete: ['writer', 'reader'] };
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'crates', format: 'cargo', type: 'remote', upstream: { url: `${relay.url}/index` } },
          { name: 'corp', format: 'cargo', type: 'local', permissions: perms },
          { name: 'cargo', format: 'cargo', type: 'virtual', members: ['corp', 'crates'], deployTo: 'corp', permissions: perms },
        ],
      },
    });
    tokens['writer'] = await newToken('writer', ['read', 'write', 'delete']);
    tokens['reader'] = await newToken('reader', ['read', 'write', 'delete']);
    tokens['readonly'] = await newToken('writer', ['read']);
  });

  after(() => closeAll(() => br?.close(), () => relay?.close(), () => up?.stop(), () => work?.cleanup()));

  it('config.json says auth-required; the index without a token is a 401 with the Cargo challenge', async () => {
    const res = await fetch(`${index('cargo')}config.json`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Cargo login_url="http:\/\/127\.0\.0\.1:\d+\/ui\/tokens"$/);
    const ok = await fetch(`${index('cargo')}config.json`, { headers: { authorization: tokens['writer'] ?? '' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { dl: `${br.url}/repo/cargo/api/v1/crates`, api: `${br.url}/repo/cargo`, 'auth-required': true });
  });

  it('cargo publish (after cargo login) through the virtual lands in the local repo, visible in the index at once, cksum ours', async () => {
    const dir = join(work.path, 'corp-util');
    await writeLib(dir, 'corp-util', '0.1.0', ['leaf-a = "1"']);
    const h = await home(tokens['writer']);
    const r = await cargo(['publish', '--registry', 'cargo'], { cwd: dir, home: h });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Published corp-util v0\.1\.0/);
    const res = await fetch(`${index('corp')}${indexPathOf('corp-util')}`, { headers: { authorization: tokens['writer'] ?? '' } });
    assert.equal(res.status, 200);
    const line = JSON.parse((await res.text()).trim()) as { name: string; vers: string; cksum: string; deps: Array<{ name: string; req: string; registry?: string }>; yanked: boolean };
    const dl = await fetch(`${br.url}/repo/cargo/api/v1/crates/corp-util/0.1.0/download`, { headers: { authorization: tokens['writer'] ?? '' } });
    assert.equal(dl.status, 200);
    assert.equal(line.cksum, sha256(new Uint8Array(await dl.arrayBuffer())));
    assert.deepEqual([line.name, line.vers, line.yanked], ['corp-util', '0.1.0', false]);
    // leaf-a came from crates.io as the manifest says it (replaced by the mirror): the index names crates.io's registry.
    assert.deepEqual(line.deps.map((d) => [d.name, d.req]), [['leaf-a', '^1']]);
    assert.equal(line.deps[0]?.registry, 'https://github.com/rust-lang/crates.io-index');
  });

  it('the dependency-confusion guard: once corp-util is hosted, the virtual answers it from the local repo only; the public 9.9.9 is not asked for', async () => {
    // Before the first publish, cargo's own check asked the virtual, which then had only the public crate.
    const asked = relay.count('GET', `/index/${indexPathOf('corp-util')}`);
    const res = await fetch(`${index('cargo')}${indexPathOf('corp-util')}`, { headers: { authorization: tokens['writer'] ?? '' } });
    const text = await res.text();
    assert.doesNotMatch(text, /9\.9\.9/);
    assert.equal(text.trim().split('\n').length, 1);
    assert.equal(relay.count('GET', `/index/${indexPathOf('corp-util')}`), asked);
  });

  it('a second crate depending on it builds through the virtual, with leaf-a from the remote', async () => {
    const dir = join(work.path, 'corp-app');
    await writeApp(dir, 'corp-app', ['corp-util = { version = "*", registry = "cargo" }', 'leaf-a = "1"']);
    const r = await cargo(['build'], { cwd: dir, home: await home(tokens['writer']) });
    assert.equal(r.code, 0, r.out);
    const lock = await readFile(join(dir, 'Cargo.lock'), 'utf8');
    assert.match(lock, /name = "corp-util"\nversion = "0\.1\.0"/);
    assert.match(lock, /name = "leaf-a"\nversion = "1\.1\.0"/);
  });

  it('without a token cargo is refused (auth-required), and says so', async () => {
    const dir = join(work.path, 'corp-app');
    const r = await cargo(['fetch'], { cwd: dir, home: await home() });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /token|401|authenticat/i);
  });

  it('a version already published is refused by cargo (its index check) and by the server (409, the registry error shape)', async () => {
    const dir = join(work.path, 'corp-util');
    const r = await cargo(['publish', '--registry', 'cargo', '--no-verify'], { cwd: dir, home: await home(tokens['writer']) });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /already exists/);
    // Past cargo's check (two clients racing): the server refuses it itself.
    const dl = await fetch(`${br.url}/repo/corp/api/v1/crates/corp-util/0.1.0/download`, { headers: { authorization: tokens['writer'] ?? '' } });
    const crate = new Uint8Array(await dl.arrayBuffer());
    const res = await fetch(`${br.url}/repo/cargo/api/v1/crates/new`, { method: 'PUT', headers: { authorization: tokens['writer'] ?? '' }, body: publishFrame({ name: 'corp-util', vers: '0.1.0', deps: [] }, crate) });
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { errors: [{ detail: 'crate version `corp-util@0.1.0` is already uploaded' }] });
  });

  it('a user with write permission who is not an owner cannot publish; cargo owner --add makes them one', async () => {
    const dir = join(work.path, 'corp-util-2');
    await writeLib(dir, 'corp-util', '0.2.0');
    const readerHome = await home(tokens['reader']);
    const refused = await cargo(['publish', '--registry', 'cargo', '--no-verify'], { cwd: dir, home: readerHome });
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /not an owner/);
    const writerHome = await home(tokens['writer']);
    const add = await cargo(['owner', '--add', 'reader', 'corp-util', '--registry', 'cargo'], { cwd: dir, home: writerHome });
    assert.equal(add.code, 0, add.out);
    const list = await cargo(['owner', '--list', 'corp-util', '--registry', 'cargo'], { cwd: dir, home: writerHome });
    assert.equal(list.code, 0, list.out);
    assert.match(list.out, /writer/);
    assert.match(list.out, /reader/);
    const ok = await cargo(['publish', '--registry', 'cargo', '--no-verify'], { cwd: dir, home: readerHome });
    assert.equal(ok.code, 0, ok.out);
    // The web UI's crate page (what browse gives it) names the owners.
    const page = await br.server.repos.get('corp')?.browse?.('corp-util', br.url);
    assert.deepEqual(page?.facts.find(([k]) => k === 'owners'), ['owners', 'writer, reader']);
  });

  it('a read-only token cannot publish', async () => {
    const dir = join(work.path, 'corp-util-3');
    await writeLib(dir, 'corp-util', '0.3.0');
    const r = await cargo(['publish', '--registry', 'cargo', '--no-verify'], { cwd: dir, home: await home(tokens['readonly']) });
    assert.notEqual(r.code, 0);
    assert.match(r.out, /403|denied|not allowed|permission/i);
  });

  it('cargo yank flips `yanked` and the ETag; the locked build still works; yank --undo flips it back', async () => {
    const url = `${index('corp')}${indexPathOf('corp-util')}`;
    const auth = { authorization: tokens['writer'] ?? '' };
    const before = await fetch(url, { headers: auth });
    const etag = before.headers.get('etag') ?? '';
    assert.ok(etag);
    const h = await home(tokens['writer']);
    const y = await cargo(['yank', '--version', '0.1.0', 'corp-util', '--registry', 'cargo'], { cwd: work.path, home: h });
    assert.equal(y.code, 0, y.out);
    const after = await fetch(url, { headers: { ...auth, 'if-none-match': etag } });
    assert.equal(after.status, 200, 'the ETag changed with yanked');
    assert.match(await after.text(), /"vers":"0\.1\.0"[^\n]*"yanked":true/);
    const dir = join(work.path, 'corp-app');
    const r = await cargo(['build', '--locked'], { cwd: dir, home: await home(tokens['writer']) });
    assert.equal(r.code, 0, r.out);
    const undo = await cargo(['yank', '--undo', '--version', '0.1.0', 'corp-util', '--registry', 'cargo'], { cwd: work.path, home: h });
    assert.equal(undo.code, 0, undo.out);
    assert.match(await (await fetch(url, { headers: auth })).text(), /"vers":"0\.1\.0"[^\n]*"yanked":false/);
  });

  it('cargo search finds the hosted crate', async () => {
    const r = await cargo(['search', 'corp', '--registry', 'cargo'], { cwd: work.path, home: await home(tokens['writer']) });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /corp-util = "0\.2\.0"/);
  });
});
