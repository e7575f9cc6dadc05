import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { pushImage, pushPlatforms, makeImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { zipStored } from '../helpers/gomod.ts';
import { tarGz } from '../helpers/helm.ts';
import { publishDoc } from '../helpers/npm.ts';
import { closeAll } from '../helpers/teardown.ts';

// Air-gapped sites (issue 14): warm a remote cache, export to a tar with the upstream gone, import
// into a fresh server that has no upstream at all, and pull from it with podman.
describe('binaryrepo warm, export and import', () => {
  let reg: RunningRegistry;
  let dir: { path: string; cleanup: () => Promise<void> };
  let img: TestImage;
  let arm: TestImage;
  let connected: string;
  let airgapped: string;
  const bundle = (): string => join(dir.path, 'bundle.tar');

  before(async () => {
    dir = await tempDir('bundle-');
    reg = await startRegistry();
    img = await makeImage({ layerSizes: [300_000, 40_000] });
    await pushImage(reg.url, 'team/app', '1', img);
    ({ arm } = await pushPlatforms(reg.url, 'team/multi', '2', { amd: 50_000, arm: 60_000 }));
    connected = join(dir.path, 'connected.json');
    airgapped = join(dir.path, 'airgapped.json');
    await writeFile(connected, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'a') }, repos: [remoteRepo('hub', reg.url)] }));
    await writeFile(airgapped, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'b') }, repos: [{ name: 'mirror', format: 'docker', type: 'local' }] }));
  });
  after(() => closeAll(() => reg?.stop(), () => dir?.cleanup()));

  it('warm prints a line per blob when not on a terminal and exits 1 for a reference that fails', async () => {
    const r = await cli(['warm', 'hub', 'team/app:1', 'team/multi:2', 'team/none:9', '--config', connected]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; ok: boolean; blobs?: number });
    assert.deepEqual(lines.map((l) => [l.image, l.ok]), [['team/app:1', true], ['team/multi:2', true], ['team/none:9', false]]);
    for (const b of [img.config, ...img.layers]) assert.match(r.stderr, new RegExp(`team/app:1: ${b.digest.slice(0, 19)} fetched`));
    assert.match(r.stderr, /team\/none:9: FAILED/);
    const again = await cli(['warm', 'hub', 'team/app:1', '--config', connected]);
    assert.equal(again.code, 0);
    assert.equal((JSON.parse(again.stdout) as { fetched: number }).fetched, 0, 'run again, nothing is fetched twice');
    assert.match(again.stderr, / cached \(1\/3\)/);
  });

  it('export works from the cache alone, and import into a fresh store is verified and idempotent', async () => {
    await reg.stop(); // from here on there is no upstream
    const ex = await cli(['export', 'hub', 'team/app:1', 'team/multi:2', '-o', bundle(), '--config', connected]);
    assert.equal(ex.code, 0, ex.stderr);
    const summary = JSON.parse(ex.stdout) as { blobs: number; items: number };
    assert.equal(summary.items, 2);
    assert.ok((await stat(bundle())).size > 400_000);

    const im = await cli(['import', bundle(), '--repo', 'mirror', '--config', airgapped]);
    assert.equal(im.code, 0, im.stderr);
    const first = JSON.parse(im.stdout) as { stored: number; skipped: number; items: number };
    assert.deepEqual(first, { stored: summary.blobs, skipped: 0, items: 2 });
    const again = await cli(['import', bundle(), '--repo', 'mirror', '--config', airgapped]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { stored: 0, skipped: summary.blobs, items: 2 });

    const srv = await startProcessServer('node', JSON.parse(await readFile(airgapped, 'utf8')) as Record<string, unknown>, dir.path);
    try {
      const podman = podmanIn(join(dir.path, 'podman'));
      const host = new URL(srv.url).host;
      const pulled = await podman(['pull', '--tls-verify=false', `${host}/mirror/team/app:1`]);
      assert.equal(pulled.code, 0, pulled.stderr);
      const arch = await podman(['pull', '--tls-verify=false', '--arch', 'arm64', `${host}/mirror/team/multi:2`]);
      assert.equal(arch.code, 0, arch.stderr);
      const inspect = await podman(['image', 'inspect', '--format', '{{.Architecture}}', `${host}/mirror/team/multi:2`]);
      assert.equal(inspect.stdout.trim(), 'arm64');
      const res = await fetch(`${srv.url}/repo/mirror/v2/team/multi/manifests/${arm.manifest.digest}`, { method: 'HEAD' });
      assert.equal(res.status, 200);
    } finally {
      await srv.stop();
    }
  });

  it('generic files travel the same way: export, import twice, served with the same bytes', async () => {
    const data = join(dir.path, 'files-a');
    const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
    const up = await startServer({ dataDir: data, config: { repos: [{ name: 'files', format: 'generic', type: 'local' }] } });
    try {
      assert.equal((await fetch(`${up.url}/repo/files/tools/1.0/tool.bin`, { method: 'PUT', body: bytes })).status, 201);
    } finally {
      await up.close();
    }
    const a = join(dir.path, 'files-a.json');
    const b = join(dir.path, 'files-b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: data }, repos: [{ name: 'files', format: 'generic', type: 'local' }] }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'files-b') }, repos: [{ name: 'dist', format: 'generic', type: 'local' }] }));
    const tarPath = join(dir.path, 'files.tar');
    const ex = await cli(['export', 'files', 'tools/1.0/tool.bin', '-o', tarPath, '--config', a]);
    assert.equal(ex.code, 0, ex.stderr);
    for (const round of [1, 2]) {
      const im = await cli(['import', tarPath, '--repo', 'dist', '--config', b]);
      assert.equal(im.code, 0, im.stderr);
      assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? 1 : 0, skipped: round === 1 ? 0 : 1, items: 1 });
      if (round === 2) assert.match(im.stderr, /\/tools\/1\.0\/tool\.bin \(already there\)/);
    }
    const down = await startServer({ dataDir: join(dir.path, 'files-b'), config: { repos: [{ name: 'dist', format: 'generic', type: 'local' }] } });
    try {
      const got = new Uint8Array(await (await fetch(`${down.url}/repo/dist/tools/1.0/tool.bin`)).arrayBuffer());
      assert.deepEqual(got, bytes);
    } finally {
      await down.close();
    }
  });

  it('Go modules and Helm charts travel the same way: export, import twice, served with the same bytes', async () => {
    const data = join(dir.path, 'gh-a');
    const repos = [{ name: 'mods', format: 'go', type: 'local' }, { name: 'charts', format: 'helm', type: 'local' }];
    const MOD = 'example.com/Corp/lib';
    const zip = zipStored(['go.mod', 'lib.go'].map((n) => ({ name: `${MOD}@v1.2.3/${n}`, data: new TextEncoder().encode(n === 'go.mod' ? `module ${MOD}\n` : 'package lib\n') })));
    const chart = await tarGz([{ name: 'web/Chart.yaml', data: 'apiVersion: v2\nname: web\nversion: 0.4.0\n' }]);
    const up = await startServer({ dataDir: data, config: { repos } });
    try {
      assert.equal((await fetch(`${up.url}/repo/mods/example.com/!corp/lib/@v/v1.2.3.zip`, { method: 'PUT', body: zip })).status, 201);
      assert.equal((await fetch(`${up.url}/repo/charts/api/charts`, { method: 'POST', body: chart })).status, 201);
    } finally {
      await up.close();
    }
    const a = join(dir.path, 'gh-a.json');
    const b = join(dir.path, 'gh-b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: data }, repos }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'gh-b') }, repos }));
    for (const [repo, ref] of [['mods', `${MOD}@v1.2.3`], ['charts', 'web@0.4.0']] as const) {
      const tarPath = join(dir.path, `${repo}.tar`);
      const ex = await cli(['export', repo, ref, '-o', tarPath, '--config', a]);
      assert.equal(ex.code, 0, ex.stderr);
      for (const round of [1, 2]) {
        const im = await cli(['import', tarPath, '--repo', repo, '--config', b]);
        assert.equal(im.code, 0, im.stderr);
        assert.equal((JSON.parse(im.stdout) as { items: number }).items, 1);
        if (round === 2) assert.match(im.stderr, /already there/);
      }
    }
    const down = await startServer({ dataDir: join(dir.path, 'gh-b'), config: { repos } });
    try {
      const gotZip = new Uint8Array(await (await fetch(`${down.url}/repo/mods/example.com/!corp/lib/@v/v1.2.3.zip`)).arrayBuffer());
      assert.deepEqual(gotZip, zip);
      assert.match(await (await fetch(`${down.url}/repo/mods/example.com/!corp/lib/@v/list`)).text(), /^v1\.2\.3$/m);
      assert.match(await (await fetch(`${down.url}/repo/charts/index.yaml`)).text(), /web:[\s\S]*version: "0\.4\.0"/);
      const gotChart = new Uint8Array(await (await fetch(`${down.url}/repo/charts/charts/web-0.4.0.tgz`)).arrayBuffer());
      assert.deepEqual(gotChart, chart);
    } finally {
      await down.close();
    }
  });

  it('npm packages travel the same way: export (a dist-tag too), import twice, installable with the same integrity', async () => {
    const data = join(dir.path, 'npm-a');
    const repos = [{ name: 'corp', format: 'npm', type: 'local' }];
    const tgz = await tarGz([{ name: 'package/package.json', data: '{"name":"@corp/tool","version":"1.2.0"}' }, { name: 'package/index.js', data: 'module.exports = 1;\n' }]);
    const up = await startServer({ dataDir: data, config: { repos } });
    try {
      const res = await fetch(`${up.url}/repo/corp/@corp%2ftool`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: publishDoc('@corp/tool', '1.2.0', tgz) });
      assert.equal(res.status, 201, await res.text());
    } finally {
      await up.close();
    }
    const a = join(dir.path, 'npm-a.json');
    const b = join(dir.path, 'npm-b.json');
    await writeFile(a, JSON.stringify({ storage: { type: 'fs', path: data }, repos }));
    await writeFile(b, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'npm-b') }, repos }));
    const tarPath = join(dir.path, 'npm.tar');
    const ex = await cli(['export', 'corp', '@corp/tool@latest', '-o', tarPath, '--config', a]);
    assert.equal(ex.code, 0, ex.stderr);
    for (const round of [1, 2]) {
      const im = await cli(['import', tarPath, '--repo', 'corp', '--config', b]);
      assert.equal(im.code, 0, im.stderr);
      assert.deepEqual(JSON.parse(im.stdout), { stored: round === 1 ? 1 : 0, skipped: round === 1 ? 0 : 1, items: 1 });
      if (round === 2) assert.match(im.stderr, /@corp\/tool@1\.2\.0 \(already there\)/);
    }
    const down = await startServer({ dataDir: join(dir.path, 'npm-b'), config: { repos } });
    try {
      const p = (await (await fetch(`${down.url}/repo/corp/@corp%2ftool`)).json()) as { 'dist-tags': Record<string, string>; versions: Record<string, { dist: { tarball: string; integrity: string } }> };
      assert.deepEqual(p['dist-tags'], { latest: '1.2.0' });
      const dist = p.versions['1.2.0']?.dist;
      assert.equal(dist?.integrity, `sha512-${createHash('sha512').update(tgz).digest('base64')}`);
      assert.equal(dist?.tarball, `${down.url}/repo/corp/@corp/tool/-/tool-1.2.0.tgz`);
      assert.deepEqual(new Uint8Array(await (await fetch(dist.tarball)).arrayBuffer()), tgz);
    } finally {
      await down.close();
    }
  });

  it('a bundle with a corrupted layer stores nothing under that digest and fails', async () => {
    const bytes = new Uint8Array(await readFile(bundle()));
    const layer = img.layers[0];
    assert.ok(layer);
    // Flip one byte inside the big layer's data (after its 512-byte tar header).
    const name = new TextEncoder().encode(`blobs/sha256/${layer.digest.slice(7)}`);
    let at = -1;
    for (let i = 0; i < bytes.length - name.length && at < 0; i++) if (name.every((b, k) => bytes[i + k] === b)) at = i;
    assert.ok(at >= 0, 'the layer is in the tar');
    bytes[at + 512 + 1000] = (bytes[at + 512 + 1000] ?? 0) ^ 0xff;
    const bad = join(dir.path, 'bad.tar');
    await writeFile(bad, bytes);
    const fresh = join(dir.path, 'fresh.json');
    await writeFile(fresh, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'c') }, repos: [{ name: 'mirror', format: 'docker', type: 'local' }] }));
    const r = await cli(['import', bad, '--repo', 'mirror', '--config', fresh]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`blob ${layer.digest} in the bundle is corrupt`));
    await assert.rejects(stat(join(dir.path, 'c', 'v1', 'blobs', 'sha256', layer.digest.slice(7, 9), layer.digest.slice(7))), /ENOENT/);
  });
});
