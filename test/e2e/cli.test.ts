import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { verifyPassword } from '../../src/auth/password.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { cli } from '../helpers/cli.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

// The offline tools, as a user runs them (`npm run binaryrepo -- ...`).
describe('binaryrepo CLI', () => {
  let srv: TestServer;
  let configPath: string;
  before(async () => {
    const config = { gc: { graceMinutes: 0 }, repos: [{ name: 'local', format: 'docker', type: 'local' }] };
    srv = await startServer({ config });
    configPath = join(srv.dataDir, 'config.json');
    await writeFile(configPath, JSON.stringify({ ...config, storage: { type: 'fs', path: srv.dataDir } }));
  });
  after(() => srv?.close());

  it('hash-password prints a hash that verifies; refuses short passwords', async () => {
    const r = await cli(['hash-password'], 'a long enough secret\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await verifyPassword('a long enough secret', r.stdout.trim()), true);
    assert.notEqual((await cli(['hash-password'], 'short\n')).code, 0);
  });

  it('gc --dry-run reports, gc frees, and what is referenced stays', async () => {
    const keep = await makeImage({ layerSizes: [10_000] });
    const drop = await makeImage({ layerSizes: [20_000] });
    const base = `${srv.url}/repo/local`;
    await pushImage(base, 'keep', 'v1', keep);
    await pushImage(base, 'drop', 'v1', drop);
    assert.equal((await fetch(`${base}/v2/drop/manifests/${drop.manifest.digest}`, { method: 'DELETE' })).status, 202);
    const dry = await cli(['gc', '--dry-run', '--config', configPath]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; blobsDeleted: number; deleted: string[] };
    assert.equal(plan.dryRun, true);
    assert.deepEqual([...plan.deleted].sort(), [drop.config.digest, drop.layers[0]?.digest, drop.manifest.digest].sort());
    assert.match(dry.stderr, /would free 3 blobs/);
    assert.equal((await fetch(`${base}/v2/drop/blobs/${drop.config.digest}`)).status, 200, 'dry run: link and blob still there');
    const real = await cli(['gc', '--config', configPath]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stderr, /freed 3 blobs/);
    assert.equal((await fetch(`${base}/v2/drop/blobs/${drop.config.digest}`)).status, 404);
    for (const b of [keep.config, ...keep.layers]) assert.equal((await fetch(`${base}/v2/keep/blobs/${b.digest}`)).status, 200);
  });

  it('retention --dry-run lists what a policy would delete; retention deletes it', async () => {
    const base = `${srv.url}/repo/local`;
    for (const tag of ['r1', 'r2', 'r3']) {
      await pushImage(base, 'rolling', tag, await makeImage({ layerSizes: [1000] }));
      await new Promise((r) => setTimeout(r, 5)); // distinct push times
    }
    const retentionConfig = join(srv.dataDir, 'retention.json');
    await writeFile(
      retentionConfig,
      JSON.stringify({ storage: { type: 'fs', path: srv.dataDir }, repos: [{ name: 'local', format: 'docker', type: 'local', retention: { images: ['rolling'], keepLast: 1 } }] }),
    );
    const dry = await cli(['retention', '--dry-run', '--config', retentionConfig]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as Array<{ image: string; deletedTags: string[]; keptTags: string[] }>;
    assert.deepEqual(plan.map((p) => [p.image, [...p.deletedTags].sort(), p.keptTags]), [['rolling', ['r1', 'r2'], ['r3']]]);
    assert.match(dry.stderr, /would delete 4 items \(tags, manifests, files\) in 1 places/);
    const real = await cli(['retention', '--config', retentionConfig]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stderr, /deleted 4 items \(tags, manifests, files\) in 1 places; run gc to free their blobs/);
    const tags = (await (await fetch(`${base}/v2/rolling/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['r3']);
  });
});
