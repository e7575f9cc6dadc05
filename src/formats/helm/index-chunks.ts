import { RegistryError } from '../../errors.ts';
import { parseYaml } from '../../util/yaml.ts';

/** An upstream index.yaml as parsed: its chart lists and top-level fields. */
export interface ParsedIndex {
  entries: Record<string, unknown[]>;
  generated: string | undefined;
}

/** Work done between yields to the event loop: no other request waits longer than this for a refresh. */
const SLICE_MS = 8;
/** A whole-document parse is allowed up to this size when the layout is not the one helm writes. */
const WHOLE_MAX = 4 << 20;
/** Deeper than this (indentation, or [ { nesting) is no chart index: refused before the YAML parser recurses. */
const MAX_DEPTH = 64;
const MAX_INDENT = 256;

const bad = (message: string): RegistryError => new RegistryError('upstream', `the upstream index.yaml does not parse: ${message}`);
const indentOf = (line: string): number => line.length - line.trimStart().length;
const skip = (line: string): boolean => line.trim() === '' || line.trimStart().startsWith('#');

/** Yields to the event loop when the current slice of work is used up. */
export function slicer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < SLICE_MS) return;
    await new Promise((r) => setTimeout(r, 0));
    since = performance.now();
  };
}

/**
 * Refuses text nested deeper than MAX_DEPTH before a recursive parser sees it (a hostile 1 KB
 * Chart.yaml or 2 MB index once blocked the event loop for 6–10 s on the way to "Maximum call
 * stack"). Brackets inside quotes may over-count: no real chart metadata comes near the limit.
 */
export function checkNesting(text: string, what: string, kind: 'invalid' | 'upstream' = 'invalid'): void {
  let depth = 0;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (c === 32) {
        if (++indent > MAX_INDENT) throw new RegistryError(kind, `${what} is indented deeper than ${MAX_INDENT} spaces`);
        continue;
      }
      lineStart = false;
    }
    if (c === 91 || c === 123) {
      if (++depth > MAX_DEPTH) throw new RegistryError(kind, `${what} nests deeper than ${MAX_DEPTH} levels`);
    } else if ((c === 93 || c === 125) && depth > 0) {
      depth--;
    }
  }
}

/**
 * Parses a Helm index.yaml one chart version at a time, yielding to the event loop between slices,
 * so a 50 MB index (16,842 charts) never blocks other requests (it blocked every client ~46 s per
 * refresh when parsed whole) and never holds the YAML library's model of the whole document. The
 * layout is the one helm (and ChartMuseum, which uses helm's code) writes: top-level keys at column
 * 0, `entries:` with one key per chart, each a block list of mappings. Another layout of a small
 * file is parsed whole; of a large one, refused.
 */
export async function parseIndexYaml(text: string): Promise<ParsedIndex> {
  checkNesting(text, 'the upstream index.yaml', 'upstream');
  const split = splitIndex(text);
  if (!split) {
    if (text.length > WHOLE_MAX) throw bad(`a ${Math.round(text.length / 2 ** 20)} MB index not in the layout helm writes (entries: <chart>: - <version>...)`);
    const doc = await parseYaml(text, { maxAliasCount: 10_000 }).catch((e: unknown) => {
      throw bad(e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e));
    });
    const o = doc && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
    const raw = o['entries'];
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new RegistryError('upstream', 'the upstream index.yaml has no entries map');
    return { entries: raw as Record<string, unknown[]>, generated: typeof o['generated'] === 'string' ? o['generated'] : undefined };
  }
  const pause = slicer();
  const head = (await parseYaml(split.head).catch(() => null)) as Record<string, unknown> | null;
  const entries: Record<string, unknown[]> = Object.create(null) as Record<string, unknown[]>;
  for (const chart of split.charts) {
    const items: unknown[] = [];
    for (const chunk of chart.items) {
      try {
        items.push(await parseYaml(chunk, { maxAliasCount: 100 }));
      } catch (e) {
        throw bad(`chart ${chart.key}: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`);
      }
      await pause();
    }
    entries[chart.key] = items;
  }
  return { entries, generated: typeof head?.['generated'] === 'string' ? head['generated'] : undefined };
}

/** A chart key as written (`name:`, `'name':`, `"name":`), or null. */
function keyOf(line: string): string | null {
  const m = /^(?:'([^']+)'|"([^"\\]+)"|([^\s#'"][^:#]*?)):\s*(?:#.*)?$/.exec(line.trim());
  return m ? (m[1] ?? m[2] ?? m[3] ?? null) : null;
}

/** The index cut into its top-level fields (one small YAML text) and, per chart, one text per version; null for another layout. */
function splitIndex(text: string): { head: string; charts: Array<{ key: string; items: string[] }> } | null {
  const lines = text.split('\n');
  const head: string[] = [];
  const charts: Array<{ key: string; items: string[] }> = [];
  let i = 0;
  let sawEntries = false;
  while (i < lines.length) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (skip(line) || indentOf(line) > 0) {
      if (!skip(line)) head.push(line);
      i++;
      continue;
    }
    if (!/^entries:\s*(#.*)?$/.test(line)) {
      head.push(line);
      i++;
      continue;
    }
    if (sawEntries) return null;
    sawEntries = true;
    i++;
    let keyIndent = -1;
    let current: { key: string; items: string[] } | null = null;
    while (i < lines.length) {
      const l = (lines[i] ?? '').replace(/\r$/, '');
      if (skip(l)) {
        i++;
        continue;
      }
      const ind = indentOf(l);
      if (ind === 0) break;
      if (keyIndent < 0) keyIndent = ind;
      const trimmed = l.trimStart();
      if (ind === keyIndent && !trimmed.startsWith('- ')) {
        const key = keyOf(l);
        if (key === null) return null;
        current = { key, items: [] };
        charts.push(current);
        i++;
        continue;
      }
      if (!current || !trimmed.startsWith('- ') || ind < keyIndent) return null;
      // One version: the `- ` line and every line indented deeper than its dash.
      const item: string[] = [`${' '.repeat(ind + 2)}${trimmed.slice(2)}`];
      i++;
      while (i < lines.length) {
        const n = (lines[i] ?? '').replace(/\r$/, '');
        if (!skip(n) && indentOf(n) <= ind) break;
        item.push(n);
        i++;
      }
      current.items.push(item.map((x) => x.slice(Math.min(ind + 2, indentOf(x)))).join('\n'));
    }
  }
  return sawEntries ? { head: head.join('\n'), charts } : null;
}
