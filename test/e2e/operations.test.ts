import assert from 'node:assert/strict';
import { chmod, cp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { cli } from '../helpers/cli.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import { run } from '../helpers/net.ts';
import { pullImage } from '../helpers/pull.ts';
import { startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const doc = (): Promise<string> => readFile(join(ROOT, 'docs', 'operations.md'), 'utf8');

// docs/operations.md, checked as written (issue 14).
describe('operations: the systemd unit, backup and restore, alert rules', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    dir = await tempDir('ops-');
  });
  after(() => dir?.cleanup());

  it('the documented unit passes systemd-analyze verify without a warning', async () => {
    const unit = /```ini\n([\s\S]*?)```/.exec(await doc())?.[1];
    assert.ok(unit, 'the unit is in the doc');
    // The unit names /usr/bin/binaryrepo (npm install -g); here it is this checkout's compiled CLI.
    const bin = join(dir.path, 'binaryrepo');
    await writeFile(bin, `#!/bin/sh\nexec ${process.execPath} ${join(ROOT, 'dist', 'adapters', 'cli', 'main.js')} "$@"\n`);
    await chmod(bin, 0o755);
    const file = join(dir.path, 'binaryrepo.service');
    await writeFile(file, unit.replaceAll('/usr/bin/binaryrepo', bin));
    const r = await run('systemd-analyze', ['verify', '--man=no', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings either');
  });

  it('a backup taken while pushes go on, in the documented order, restores into a fresh server that serves every image', async () => {
    const data = join(dir.path, 'live');
    const srv = await startServer({ dataDir: data, config: { repos: [{ name: 'apps', format: 'docker', type: 'local' }] } });
    const backup = join(dir.path, 'backup');
    const images = await Promise.all(Array.from({ length: 4 }, () => makeImage({ layerSizes: [50_000, 8_000] })));
    try {
      for (const [i, img] of images.slice(0, 2).entries()) await pushImage(`${srv.url}/repo/apps`, `app${i}`, 'v1', img);
      // Pushes during the copy: whatever the copied documents name must be in the copied blobs.
      const late = Promise.all(images.slice(2).map((img, i) => pushImage(`${srv.url}/repo/apps`, `late${i}`, 'v1', img)));
      for (const part of ['repos', 'auth']) await cp(join(data, 'v1', part), join(backup, 'v1', part), { recursive: true }).catch((e: { code?: string }) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
      await late;
      await cp(join(data, 'v1', 'blobs'), join(backup, 'v1', 'blobs'), { recursive: true });
    } finally {
      await srv.close();
    }
    const cfg = join(dir.path, 'restored.json');
    await writeFile(cfg, JSON.stringify({ storage: { type: 'fs', path: backup }, repos: [{ name: 'apps', format: 'docker', type: 'local' }] }));
    const fsck = await cli(['fsck', '--config', cfg]);
    assert.equal(fsck.code, 0, fsck.stdout + fsck.stderr);
    const restored = await startServer({ dataDir: backup, config: { repos: [{ name: 'apps', format: 'docker', type: 'local' }] } });
    try {
      for (const i of [0, 1]) assert.equal((await pullImage(`${restored.url}/repo/apps`, `app${i}`, 'v1')).manifestDigest, images[i]?.manifest.digest);
      // The late pushes are in the backup if their tag was copied, and then whole.
      for (const i of [0, 1]) {
        const r = await fetch(`${restored.url}/repo/apps/v2/late${i}/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
        if (r.status === 200) assert.equal((await pullImage(`${restored.url}/repo/apps`, `late${i}`, 'v1')).manifestDigest, images[i + 2]?.manifest.digest);
        else assert.equal(r.status, 404);
      }
    } finally {
      await restored.close();
    }
  });

  it('the alert rules name only metrics the server exports', async () => {
    const rules = parse(await readFile(join(ROOT, 'docs', 'prometheus-rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const srv = await startServer({ config: { cacheBudget: { maxBytes: 1_000_000 }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: 'http://127.0.0.1:9' }, cache: { maxBytes: 500_000 } }] } });
    try {
      // One request of each kind, so every counter has a series.
      await fetch(`${srv.url}/repo/hub/v2/x/manifests/latest`);
      await srv.server.evictor.run(false);
      const exported = new Set([...(await (await fetch(`${srv.url}/metrics`)).text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
      const named = rules.groups.flatMap((g) => g.rules).flatMap((r) => [...r.expr.matchAll(/\b(binaryrepo_[a-z_]+)/g)].map((m) => m[1]));
      assert.ok(named.length >= 5);
      for (const n of named) assert.ok(exported.has(n), `${n} is exported`);
    } finally {
      await srv.close();
    }
  });
});
