import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tsFiles } from '../helpers/files.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** Every relative module a file imports or re-exports, types included: a cycle of types is still a knot. */
async function graph(roots: string[] = [SRC]): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  for (const f of (await Promise.all(roots.map((r) => tsFiles(r)))).flat()) {
    const text = await readFile(f, 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)].map((m) => resolve(dirname(f), m[1] ?? ''));
    g.set(relative(ROOT, f), deps.map((d) => relative(ROOT, d)));
  }
  return g;
}

// Issue 10: the import graph of src/ has no cycles, and the core never imports a format's internals.
describe('the import graph', () => {
  it('has no cycles', async () => {
    const g = await graph();
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(n)), n].join(' → '));
        return;
      }
      state.set(n, 'open');
      stack.push(n);
      for (const d of g.get(n) ?? []) visit(d);
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of g.keys()) visit(n);
    assert.deepEqual(cycles, []);
  });

  it('only formats/registry.ts and formats/schemas.ts reach into a format folder from outside it', async () => {
    const g = await graph();
    const offenders: string[] = [];
    for (const [file, deps] of g) {
      const own = /^src\/formats\/([a-z]+)\//.exec(file)?.[1];
      for (const d of deps) {
        const into = /^src\/formats\/([a-z]+)\//.exec(d)?.[1];
        if (into && into !== own && file !== 'src/formats/registry.ts' && file !== 'src/formats/schemas.ts') offenders.push(`${file} → ${d}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  // Issue 23: the layers docs/architecture.md draws, enforced between folders (adapters/ included),
  // not only as "no file cycle". Lowest first; a file may import its own layer or any lower one.
  it('keeps the folder layers: each folder imports only its own layer and the ones below', async () => {
    const g = await graph([SRC, join(ROOT, 'adapters')]);
    const configLayer = configFiles(g);
    const offenders: string[] = [];
    for (const [file, deps] of g) {
      const from = layerOf(file, configLayer);
      for (const d of deps) {
        const to = layerOf(d, configLayer);
        if (to.rank > from.rank) offenders.push(`${file} (${from.name}) → ${d} (${to.name})`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('the config layer (src/config, formats/schemas.ts, each format\'s config.ts) uses nothing above util', async () => {
    const g = await graph();
    const configLayer = configFiles(g);
    const offenders: string[] = [];
    for (const f of configLayer) {
      for (const d of g.get(f) ?? []) {
        if (!configLayer.has(d) && layerOf(d, configLayer).rank > LAYERS.indexOf('util')) offenders.push(`${f} → ${d}`);
      }
    }
    assert.deepEqual(offenders, []);
    assert.ok(configLayer.has('src/formats/docker/config.ts') && configLayer.has('src/config/schema.ts'), [...configLayer].join(', '));
  });
});

/** Lowest first. `formats` is the kit (src/formats/*.ts); `format` is one format's folder. */
const LAYERS = ['errors', 'log', 'util', 'metrics', 'config', 'storage', 'http', 'cache', 'upstream', 'auth', 'notify', 'formats', 'format', 'registry', 'jobs', 'admin', 'ui', 'boot', 'app', 'adapters', 'cli'];

/**
 * The config vocabulary every layer may read: src/config/, the formats' own repo schemas
 * (formats/schemas.ts, formats/<name>/config.ts) and what those import inside their folder.
 */
function configFiles(g: Map<string, string[]>): Set<string> {
  const seeds = [...g.keys()].filter((f) => f.startsWith('src/config/') || f === 'src/formats/schemas.ts' || /^src\/formats\/[a-z]+\/config\.ts$/.test(f));
  const set = new Set<string>(seeds);
  for (let i = 0; i < seeds.length; i++) {
    for (const d of g.get(seeds[i] ?? '') ?? []) {
      if (!set.has(d) && d.startsWith('src/formats/')) {
        set.add(d);
        seeds.push(d);
      }
    }
  }
  return set;
}

function layerOf(file: string, configLayer: Set<string>): { name: string; rank: number } {
  const at = (name: string): { name: string; rank: number } => ({ name, rank: LAYERS.indexOf(name) });
  if (configLayer.has(file)) return at('config');
  if (file.startsWith('adapters/cli/')) return at('cli');
  if (file.startsWith('adapters/')) return at('adapters');
  if (file === 'src/formats/registry.ts') return at('registry');
  if (/^src\/formats\/[a-z]+\//.test(file)) return at('format');
  const m = /^src\/([a-z-]+)(\/|\.ts$)/.exec(file);
  const name = m?.[1] ?? file;
  if (!LAYERS.includes(name)) throw new Error(`${file}: no layer for ${name} (add the folder to LAYERS)`);
  return at(name);
}
