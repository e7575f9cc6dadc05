// The npm bench's data: a dependency graph of packages with realistic tarball sizes, published to
// the upstream Verdaccio with the publish documents npm sends, and one package with many versions
// and a large readme (the packument-under-load section).
import { get } from 'node:http';
import type { Agent } from 'node:http';
import { tarGz } from '../test/helpers/helm.ts';
import { publishDoc } from '../test/helpers/npm.ts';
import { rng } from './stats.ts';

export interface GraphPackage {
  name: string;
  version: string;
  deps: string[];
  bytes: number;
}

/** Incompressible filler, so a tarball's size is what the plan says after gzip too. */
function noise(n: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * 64)];
  return s;
}

/**
 * `n` packages, a tenth of them scoped: sizes as public registries have them (most under 20 KB, a
 * quarter up to 200 KB, one in twenty up to 2 MB); each depends on up to four later ones, and the
 * app on every package nothing else depends on, so one install takes all of them.
 */
export function plan(n: number): { packages: GraphPackage[]; roots: string[] } {
  const names = Array.from({ length: n }, (_, i) => (i % 10 === 3 ? `@bench/s${i}` : `bench-p${i}`));
  const packages = names.map((name, i): GraphPackage => {
    const r = rng();
    const bytes = r < 0.7 ? 1000 + Math.floor(rng() * 19_000) : r < 0.95 ? 20_000 + Math.floor(rng() * 180_000) : 200_000 + Math.floor(rng() * 1_800_000);
    const deps = new Set<string>();
    const k = Math.floor(rng() * 5);
    for (let j = 0; j < k && i + 1 < n; j++) deps.add(names[i + 1 + Math.floor(rng() * Math.min(200, n - i - 1))] ?? '');
    return { name, version: `1.${i % 7}.${i % 3}`, deps: [...deps].filter(Boolean), bytes };
  });
  const depended = new Set(packages.flatMap((p) => p.deps));
  return { packages, roots: names.filter((x) => !depended.has(x)) };
}

async function tarballOf(name: string, version: string, pkg: Record<string, unknown>, bytes: number): Promise<Uint8Array> {
  return tarGz([
    { name: 'package/package.json', data: JSON.stringify({ name, version, ...pkg }) },
    { name: 'package/index.js', data: `module.exports = ${JSON.stringify(`${name}@${version}`)};\n` },
    { name: 'package/data.txt', data: noise(Math.floor(bytes * 0.75)) },
  ]);
}

async function put(registry: string, token: string, name: string, body: string): Promise<void> {
  const res = await fetch(`${registry}/${name.replace('/', '%2f')}`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`publish ${name}: ${res.status} ${await res.text()}`);
}

/** Publishes the graph, four at a time; returns the bytes of tarballs published. */
export async function publishGraph(registry: string, token: string, packages: GraphPackage[]): Promise<number> {
  let next = 0;
  let total = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < packages.length; i = next++) {
        const p = packages[i];
        if (!p) continue;
        const dependencies = Object.fromEntries(p.deps.map((d) => [d, `^${packages.find((q) => q.name === d)?.version ?? '1.0.0'}`]));
        const tgz = await tarballOf(p.name, p.version, { dependencies }, p.bytes);
        total += tgz.byteLength;
        await put(registry, token, p.name, publishDoc(p.name, p.version, tgz, { manifest: { dependencies, license: 'MIT' } }));
      }
    }),
  );
  return total;
}

/** `versions` versions of one package, each with a `readmeBytes` readme (npm keeps the latest's). */
export async function publishMany(registry: string, token: string, name: string, versions: number, readmeBytes: number): Promise<void> {
  // About 2 KB of manifest per version (typescript's ~8 MB packument has ~3 KB per version); the
  // readme on the last publish only, as the registry keeps the latest's.
  const devDependencies = Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`@types/dev-dependency-${k}`, `^${k}.0.0`]));
  for (let i = 0; i < versions; i++) {
    const version = `${Math.floor(i / 100)}.${i % 100}.0`;
    const tgz = await tarballOf(name, version, {}, 500);
    const manifest = { readme: i === versions - 1 ? `# ${name}\n\n${noise(readmeBytes)}` : `# ${name}`, dependencies: { 'bench-p0': '^1.0.0' }, devDependencies, engines: { node: '>=18' }, scripts: { test: 'node test.js', build: 'tsc -p .' }, keywords: ['bench'], repository: { type: 'git', url: 'git+https://example.invalid/bench.git' } };
    await put(registry, token, name, publishDoc(name, version, tgz, { manifest }));
  }
}

/**
 * `clients` concurrent loops of GETs with `headers` over keep-alive (node:http: the body is read as
 * sent, never decompressed by the client), for `ms`; latencies in ms, sorted.
 */
export async function loadGets(url: string, headers: Record<string, string>, clients: number, ms: number, agent: Agent): Promise<{ lat: number[]; errors: number; bytes: number }> {
  const lat: number[] = [];
  let errors = 0;
  let bytes = 0;
  const end = performance.now() + ms;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      get(url, { headers, agent }, (res) => {
        res.on('data', (c: Uint8Array) => (bytes += c.byteLength));
        res.on('end', () => {
          if (res.statusCode === 200) lat.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      }).on('error', () => {
        errors++;
        resolve();
      });
    });
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < end) await one();
  }));
  return { lat: lat.sort((a, b) => a - b), errors, bytes };
}

export const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? Number.NaN;
