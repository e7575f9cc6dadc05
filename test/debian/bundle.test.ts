import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { aptRoot, buildDeb, sha256 } from '../helpers/debian.ts';
import { cli } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 29 with issue 14's air gap: packages exported from one server's suite, imported into another's, installed with apt-get there.
describe('Debian bundles: export, import twice, apt-get install from the imported suite', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const repos = [{ name: 'debs', format: 'debian', type: 'local', architectures: ['amd64'] }];
  const debs: string[] = [];

  before(async () => {
    dir = await tempDir('deb-bundle-');
    debs.push(await buildDeb(join(dir.path, 'debs'), { name: 'tool', version: '1.0', depends: 'tool-data' }));
    debs.push(await buildDeb(join(dir.path, 'debs'), { name: 'tool', version: '2.0' }));
    debs.push(await buildDeb(join(dir.path, 'debs'), { name: 'tool-data', version: '1.0', arch: 'all' }));
    const up = await startServer({ dataDir: join(dir.path, 'a'), config: { repos } });
    try {
      for (const f of debs) assert.equal((await fetch(`${up.url}/repo/debs/upload/stable/main`, { method: 'PUT', body: await readFile(f) })).status, 201);
    } finally {
      await up.close();
    }
  });
  after(() => dir?.cleanup());

  it('tool=1.0 and tool-data land in the other suite with the same bytes; a second import stores nothing; apt-get installs them', async () => {
    const a = join(dir.path, 'a.json');
    const b = join(dir.path, 'b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'a') }, repos }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'b') }, repos }));
    const tarPath = join(dir.path, 'debs.tar');
    const ex = await cli(['export', 'debs', 'stable/tool=1.0', 'stable/tool-data', '-o', tarPath, '--config', a]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.notEqual((await cli(['export', 'debs', 'stable/nothing', '-o', join(dir.path, 'x.tar'), '--config', a])).code, 0);
    for (const round of [1, 2]) {
      const im = await cli(['import', tarPath, '--repo', 'debs', '--config', b]);
      assert.equal(im.code, 0, im.stderr);
      assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? 2 : 0, skipped: round === 1 ? 0 : 2, items: 2 });
    }
    const down = await startServer({ dataDir: join(dir.path, 'b'), config: { repos } });
    try {
      const packages = await (await fetch(`${down.url}/repo/debs/dists/stable/main/binary-amd64/Packages`)).text();
      assert.deepEqual([...packages.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]).sort(), ['1.0', '1.0']);
      const home = join(dir.path, 'apt');
      await mkdir(home, { recursive: true });
      await writeFile(join(home, 'key.asc'), await (await fetch(`${down.url}/repo/debs/key.asc`)).text());
      const apt = await aptRoot(home, `deb [signed-by=${join(home, 'key.asc')}] ${down.url}/repo/debs stable main`);
      assert.equal((await apt.apt(['update'])).code, 0);
      const i = await apt.apt(['install', '--download-only', 'tool']);
      assert.equal(i.code, 0, i.out);
      assert.deepEqual(await apt.archives(), ['tool-data_1.0_all.deb', 'tool_1.0_amd64.deb']);
      assert.equal(sha256(await readFile(join(home, 'var/cache/apt/archives/tool_1.0_amd64.deb'))), sha256(await readFile(debs[0] ?? '')));
    } finally {
      await down.close();
    }
  });
});
