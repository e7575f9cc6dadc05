// `make check-remote-pull`: the whole path a user sets up, shown step by step.
// docker-registry (upstream, on loopback) ← counting relay ← binaryrepo (Node) ← nginx (TLS) ← podman.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { makeImage, pushImage } from '../helpers/images.ts';
import { podmanIn } from '../helpers/listen.ts';
import { startTlsFrontDoor } from '../helpers/nginx.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import { startRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import { tempDir } from '../helpers/tmp.ts';

async function tree(dir: string, root = dir, out: string[] = []): Promise<string[]> {
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await tree(p, root, out);
    else out.push(`  ${relative(root, p)}  (${(await stat(p)).size} B)`);
  }
  return out;
}

const dir = await tempDir('check-remote-pull-');
const reg = await startRegistry();
const relay = await startRelay(reg.url);
const dataDir = join(dir.path, 'data');
const br = await startProcessServer('node', {
  storage: { type: 'fs', path: dataDir },
  repos: [{ name: 'docker-remote', format: 'docker', type: 'remote', upstream: { url: relay.url, libraryPrefix: true } }],
}, dir.path);
let failed = false;
try {
  console.log('1. upstream docker-registry at', reg.url, '— pushing sample images library/sample:1 and library/tools:2');
  await pushImage(reg.url, 'library/sample', '1', await makeImage({ layerSizes: [2_000_000, 500_000] }));
  await pushImage(reg.url, 'library/tools', '2', await makeImage({ layerSizes: [3_000_000, 1_000_000, 200_000] }));
  relay.reset();
  const { ngx, certDir: trust } = await startTlsFrontDoor(dir.path, br.url, 'docker-remote');
  console.log('2. binaryrepo at', br.url, '; nginx (TLS, CA from nginx/setup-certs.sh) at', ngx.url);
  const root = join(dir.path, 'podman');
  const podman = podmanIn(root);
  for (const image of ['sample:1', 'tools:2']) {
    const ref = `127.0.0.1:${ngx.port}/${image}`;
    for (const round of ['cold', 'warm']) {
      relay.reset();
      const t0 = performance.now();
      const r = await podman(['pull', '--cert-dir', trust, ref]);
      const ms = performance.now() - t0;
      if (r.code !== 0) throw new Error(`podman pull ${ref} failed: ${r.stderr}`);
      console.log(`3. podman pull ${ref} (${round}): ${ms.toFixed(0)} ms; upstream saw ${relay.count('GET', '/manifests/')} manifest GETs, ${relay.count('HEAD', '/manifests/')} HEADs, ${relay.count('GET', '/blobs/')} blob GETs, ${relay.bytes.value} bytes`);
      await podman(['rmi', ref]);
    }
  }
  const head = await fetch(`${br.url}/repo/docker-remote/v2/library/tools/manifests/2`, { method: 'HEAD' });
  console.log('4. X-Cache of a manifest HEAD now:', head.headers.get('x-cache'));
  console.log('5. the cache tree:');
  console.log((await tree(dataDir)).join('\n'));
  const metrics = await (await fetch(`${br.url}/metrics`)).text();
  console.log('6. metrics:');
  console.log(metrics.split('\n').filter((l) => /^binaryrepo_(cache_results|upstream_requests|fills_total|upstream_bytes)/.test(l)).map((l) => `  ${l}`).join('\n'));
  await ngx.stop();
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await br.stop();
  await relay.close();
  await reg.stop();
  await dir.cleanup();
}
process.exit(failed ? 1 : 0);
