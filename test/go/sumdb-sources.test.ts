import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { goEnv, writeProxyTree } from '../helpers/gomod.ts';
import type { ModuleVersion } from '../helpers/gomod.ts';
import { freePort, run } from '../helpers/net.ts';
import { startStaticNginx } from '../helpers/nginx.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { goSumLines, writeSumdb } from '../helpers/sumdb.ts';
import type { TestSumdb } from '../helpers/sumdb.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const mod = (path: string, version: string, pkg: string): ModuleVersion => ({
  path,
  version,
  files: { 'go.mod': `module ${path}\n\ngo 1.21\n`, [`${pkg}.go`]: `package ${pkg}\n\nfunc Name() string { return "${path}@${version}" }\n` },
});
const MODS = [mod('example.com/greet', 'v1.1.0', 'greet'), mod('gopkg.in/yaml.v3', 'v3.0.1', 'yaml')];

// Issue 24 B: with no `url` for a checksum database, binaryrepo asks it where the go command would:
// through the upstream GOPROXY's /sumdb/<name>/ (when that says `supported`), then the database's
// own host. The database here is named after a closed loopback port, so its own host is unreachable,
// as sum.golang.org is behind an egress rule that lets only the proxy through.
describe('Go checksum database sources: the upstream proxy first, and 404 for supported when none serves it', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let ngx: Awaited<ReturnType<typeof startStaticNginx>>;
  let relay: Relay;
  let br: TestServer;
  let db: TestSumdb;
  let name: string;
  let homes = 0;

  before(async () => {
    work = await tempDir('go-sumdb-src-');
    name = `127.0.0.1:${await freePort()}`;
    const root = join(work.path, 'www');
    // `withdb` proxies the database at /sumdb/<name>/ as proxy.golang.org does; `nodb` does not.
    await writeProxyTree(join(root, 'nodb'), MODS);
    await cp(join(root, 'nodb'), join(root, 'withdb'), { recursive: true });
    db = await writeSumdb(join(root, 'withdb', 'sumdb', name), name, MODS);
    await writeFile(join(root, 'withdb', 'sumdb', name, 'supported'), '');
    ngx = await startStaticNginx(root, work.path);
    relay = await startRelay(ngx.url);
    const repo = (repoName: string, folder: string) => ({
      name: repoName,
      format: 'go',
      type: 'remote',
      upstream: { url: `${relay.url}/${folder}`, breakerFailures: 1000, headersTimeoutSeconds: 5 },
      sumdb: [{ key: db.key }],
    });
    br = await startServer({ config: { repos: [repo('through', 'withdb'), repo('nosource', 'nodb')] } });
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => ngx?.stop(), () => work?.cleanup()));

  async function goGet(proxy: string, gosumdb: string) {
    const app = join(work.path, `app-${homes++}`);
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'go.mod'), 'module example.com/app\n\ngo 1.21\n');
    const env = goEnv(join(app, 'home'), join(work.path, 'gocache'), { GOPROXY: `${br.url}/repo/${proxy}`, GOSUMDB: gosumdb });
    const get = await run('go', ['get', 'example.com/greet@v1.1.0', 'gopkg.in/yaml.v3@v3.0.1'], { cwd: app, env, timeoutMs: 240_000 });
    return { ...get, sum: await readFile(join(app, 'go.sum'), 'utf8').catch(() => '') };
  }

  it('verifies through the upstream GOPROXY when the database itself cannot be reached', async () => {
    const r = await goGet('through', db.key);
    assert.equal(r.code, 0, r.stderr);
    for (const m of MODS) for (const line of goSumLines(m).trim().split('\n')) assert.ok(r.sum.includes(line), `go.sum holds ${line}`);
    assert.equal(relay.count('GET', `/withdb/sumdb/${name}/supported`), 1, 'the upstream asked once whether it proxies the database');
    assert.equal(relay.count('GET', `/withdb/sumdb/${name}/lookup/example.com/greet@v1.1.0`), 1);
    assert.equal(relay.count('GET', `/withdb/sumdb/${name}/lookup/gopkg.in/yaml.v3@v3.0.1`), 1);
  });

  it('answers supported with 404 when no source serves the database, so the go command goes to it directly', async () => {
    const supported = await fetch(`${br.url}/repo/nosource/sumdb/${name}/supported`);
    assert.equal(supported.status, 404, await supported.text());
    assert.equal(relay.count('GET', `/nodb/sumdb/${name}/supported`), 1);
    // The go command then uses GOSUMDB's own URL: here the database as the proxy tree serves it.
    const r = await goGet('nosource', `${db.key} ${relay.url}/withdb/sumdb/${name}`);
    assert.equal(r.code, 0, r.stderr);
    for (const m of MODS) for (const line of goSumLines(m).trim().split('\n')) assert.ok(r.sum.includes(line), `go.sum holds ${line}`);
  });

  it('answers supported with 200 as soon as a tree is held, without asking again', async () => {
    const before = relay.count('GET', `/withdb/sumdb/${name}/supported`);
    const supported = await fetch(`${br.url}/repo/through/sumdb/${name}/supported`);
    assert.equal(supported.status, 200);
    assert.equal(relay.count('GET', `/withdb/sumdb/${name}/supported`), before);
  });
});
