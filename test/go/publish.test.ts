import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCentralDirectory } from '../../src/formats/go/zip.ts';
import { PASSWORDS, authConfig } from '../helpers/auth.ts';
import { cli } from '../helpers/cli.ts';
import { goEnv } from '../helpers/gomod.ts';
import { run } from '../helpers/net.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const MOD = 'corp.example/tool';

// Issue 11: `binaryrepo go publish` zips a source tree by the module zip rules and uploads it.
describe('binaryrepo go publish', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  const url = (): string => `${br.url}/repo/golocal`;

  before(async () => {
    work = await tempDir('go-publish-');
    br = await startServer({
      config: { auth: await authConfig(), repos: [{ name: 'golocal', format: 'go', type: 'local', permissions: { read: ['anonymous'], write: ['writer'] } }] },
    });
    const src = join(work.path, 'src');
    const files: Record<string, string> = {
      'go.mod': `module ${MOD}\n\ngo 1.21\n`,
      'tool.go': 'package tool\n\nimport "corp.example/tool/sub"\n\nfunc Answer() int { return sub.Base() + 1 }\n',
      'sub/x.go': 'package sub\n\nfunc Base() int { return 41 }\n',
      'nested/go.mod': 'module corp.example/tool/nested\n',
      'nested/n.go': 'package nested\n',
      '.git/config': '[core]\n',
      'vendor/other/o.go': 'package other\n',
    };
    for (const [p, text] of Object.entries(files)) {
      await mkdir(join(src, p, '..'), { recursive: true });
      await writeFile(join(src, p), text);
    }
  });
  after(() => closeAll(() => br?.close(), () => work?.cleanup()));

  it('zips only what belongs to the module and publishes it; the go command builds with it', async () => {
    const r = await cli(['go', 'publish', join(work.path, 'src'), `${MOD}@v0.3.0`, '--to', url(), '--user', 'writer'], `${PASSWORDS.writer}\n`);
    assert.equal(r.code, 0, r.stderr);
    const zip = new Uint8Array(await (await fetch(`${url()}/${MOD}/@v/v0.3.0.zip`)).arrayBuffer());
    const handle = { read: async (pos: number, len: number) => zip.subarray(pos, pos + len), close: async () => {} };
    const names = (await readCentralDirectory(handle, zip.byteLength)).map((e) => e.name).sort();
    assert.deepEqual(names, [`${MOD}@v0.3.0/go.mod`, `${MOD}@v0.3.0/sub/x.go`, `${MOD}@v0.3.0/tool.go`]);
    const app = join(work.path, 'app');
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'go.mod'), `module example.com/app\n\ngo 1.21\n\nrequire ${MOD} v0.3.0\n`);
    await writeFile(join(app, 'main.go'), `package main\n\nimport (\n\t"fmt"\n\n\t"${MOD}"\n)\n\nfunc main() { fmt.Println(tool.Answer()) }\n`);
    const home = join(work.path, 'home');
    const env = goEnv(home, join(work.path, 'gocache'), { GOPROXY: url() });
    const build = await run('go', ['build', '-o', join(app, 'app'), '.'], { cwd: app, env, timeoutMs: 240_000 });
    assert.equal(build.code, 0, build.stderr);
    assert.equal((await run(join(app, 'app'), [])).stdout.trim(), '42');
  });

  it('a version cannot be published twice; a wrong password is refused', async () => {
    const again = await cli(['go', 'publish', join(work.path, 'src'), `${MOD}@v0.3.0`, '--to', url(), '--user', 'writer'], `${PASSWORDS.writer}\n`);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /409/);
    const wrong = await cli(['go', 'publish', join(work.path, 'src'), `${MOD}@v0.4.0`, '--to', url(), '--user', 'writer'], 'not-the-password\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401/);
    const bad = await cli(['go', 'publish', join(work.path, 'src'), `${MOD}@0.4`, '--to', url()]);
    assert.equal(bad.code, 2, 'an invalid version is refused before anything is sent');
  });
});
