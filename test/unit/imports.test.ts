import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tsFiles } from '../helpers/files.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

/** Every relative module a file imports or re-exports, types included: a cycle of types is still a knot. */
async function graph(): Promise<Map<string, string[]>> {
  const g = new Map<string, string[]>();
  for (const f of await tsFiles(SRC)) {
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
});
