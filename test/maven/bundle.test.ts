import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 27 with issue 14's air gap: a version's files exported from one server, imported into another, served with metadata made there.
describe('Maven bundles: export, import twice, metadata and files on the other side', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const repos = [{ name: 'm2', format: 'maven', type: 'local' }];
  const files: Record<string, string> = { 'lib-1.0.pom': '<project><modelVersion>4.0.0</modelVersion></project>', 'lib-1.0.jar': 'jar bytes 1.0', 'lib-1.0-sources.jar': 'sources 1.0' };

  before(async () => {
    dir = await tempDir('maven-bundle-');
    const up = await startServer({ dataDir: join(dir.path, 'a'), config: { repos } });
    try {
      for (const [f, body] of Object.entries(files)) assert.equal((await fetch(`${up.url}/repo/m2/org/corp/lib/1.0/${f}`, { method: 'PUT', body })).status, 201);
      assert.equal((await fetch(`${up.url}/repo/m2/org/corp/lib/2.0/lib-2.0.jar`, { method: 'PUT', body: 'jar 2.0' })).status, 201);
    } finally {
      await up.close();
    }
  });
  after(() => dir?.cleanup());

  it('every file of org.corp:lib:1.0 arrives with the same bytes, the metadata lists 1.0 only; a second import stores nothing', async () => {
    const a = join(dir.path, 'a.json');
    const b = join(dir.path, 'b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'a') }, repos }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'b') }, repos }));
    const tarPath = join(dir.path, 'm2.tar');
    const ex = await cli(['export', 'm2', 'org.corp:lib:1.0', '-o', tarPath, '--config', a]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.notEqual((await cli(['export', 'm2', 'org.corp:nothing:1.0', '-o', join(dir.path, 'x.tar'), '--config', a])).code, 0);
    for (const round of [1, 2]) {
      const im = await cli(['import', tarPath, '--repo', 'm2', '--config', b]);
      assert.equal(im.code, 0, im.stderr);
      assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? 3 : 0, skipped: round === 1 ? 0 : 3, items: 3 });
    }
    const down = await startServer({ dataDir: join(dir.path, 'b'), config: { repos } });
    try {
      for (const [f, body] of Object.entries(files)) assert.equal(await (await fetch(`${down.url}/repo/m2/org/corp/lib/1.0/${f}`)).text(), body);
      const md = await (await fetch(`${down.url}/repo/m2/org/corp/lib/maven-metadata.xml`)).text();
      assert.deepEqual([...md.matchAll(/<version>([^<]+)<\/version>/g)].map((m) => m[1]), ['1.0']);
      assert.equal((await fetch(`${down.url}/repo/m2/org/corp/lib/2.0/lib-2.0.jar`)).status, 404);
    } finally {
      await down.close();
    }
  });
});
