import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cargo, cargoHome, crateFile, indexPathOf, publishFrame, writeApp } from '../helpers/cargo.ts';
import { cli } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 28 with issue 14's air gap: crates exported from one server, imported into another, built with cargo there.
describe('Cargo bundles: export, import twice, build from the imported repo', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const repos = [{ name: 'corp', format: 'cargo', type: 'local' }];
  let crate: Uint8Array;

  before(async () => {
    dir = await tempDir('cargo-bundle-');
    crate = await crateFile({ name: 'corp-base', vers: '1.2.0' });
    const up = await startServer({ dataDir: join(dir.path, 'a'), config: { repos } });
    try {
      const res = await fetch(`${up.url}/repo/corp/api/v1/crates/new`, { method: 'PUT', body: publishFrame({ name: 'corp-base', vers: '1.2.0', deps: [] }, crate) });
      assert.equal(res.status, 200, await res.text());
      assert.equal((await fetch(`${up.url}/repo/corp/api/v1/crates/corp-base/1.2.0/yank`, { method: 'DELETE' })).status, 200);
    } finally {
      await up.close();
    }
  });
  after(() => dir?.cleanup());

  it('the imported crate has the same index line (yanked too) and bytes; a second import stores nothing; cargo builds against it', async () => {
    const a = join(dir.path, 'a.json');
    const b = join(dir.path, 'b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'a') }, repos }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'b') }, repos }));
    const tarPath = join(dir.path, 'crates.tar');
    const ex = await cli(['export', 'corp', 'corp-base@1.2.0', '-o', tarPath, '--config', a]);
    assert.equal(ex.code, 0, ex.stderr);
    for (const round of [1, 2]) {
      const im = await cli(['import', tarPath, '--repo', 'corp', '--config', b]);
      assert.equal(im.code, 0, im.stderr);
      assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? 1 : 0, skipped: round === 1 ? 0 : 1, items: 1 });
      if (round === 2) assert.match(im.stderr, /corp-base@1\.2\.0 \(already there\)/);
    }
    const down = await startServer({ dataDir: join(dir.path, 'b'), config: { repos } });
    try {
      const line = JSON.parse((await (await fetch(`${down.url}/repo/corp/index/${indexPathOf('corp-base')}`)).text()).trim()) as { vers: string; yanked: boolean };
      assert.deepEqual([line.vers, line.yanked], ['1.2.0', true]);
      assert.deepEqual(new Uint8Array(await (await fetch(`${down.url}/repo/corp/api/v1/crates/corp-base/1.2.0/download`)).arrayBuffer()), crate);
      // A yanked version still resolves from a lock file that names it: unyank for a fresh resolution.
      assert.equal((await fetch(`${down.url}/repo/corp/api/v1/crates/corp-base/1.2.0/unyank`, { method: 'PUT' })).status, 200);
      const app = join(dir.path, 'app');
      await writeApp(app, 'app', ['corp-base = "1.2"']);
      const r = await cargo(['build'], { cwd: app, home: await cargoHome(join(dir.path, 'home'), `${down.url}/repo/corp/index/`) });
      assert.equal(r.code, 0, r.out);
    } finally {
      await down.close();
    }
  });
});
