import { compareSemver } from '../../util/semver.ts';
import { slicer } from './index-chunks.ts';

/** One chart version in an index: Chart.yaml's fields plus where and what the archive is. */
export type IndexEntry = Record<string, unknown> & { name: string; version: string; urls: string[]; digest?: string; created?: string };

/** Chart name → its versions, newest first. */
export type Entries = Map<string, IndexEntry[]>;

export type IndexFormat = 'yaml' | 'json';

/** The file name an entry is served under: `<name>-<version>.tgz` (ChartMuseum's and `helm package`'s). */
export const chartFile = (name: string, version: string): string => `${name}-${version}.tgz`;

export const newestFirst = (a: IndexEntry, b: IndexEntry): number => compareSemver(b.version, a.version);

/**
 * A scalar as YAML reads it back unchanged: strings double-quoted with JSON's escapes (valid YAML
 * escapes) plus the characters YAML 1.1 readers treat as line breaks or refuse as unprintable.
 */
function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
  return JSON.stringify(String(v)).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const key = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? k : scalar(k));
const isEmpty = (v: unknown): boolean => (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && v !== null && Object.keys(v).length === 0);

/** Block YAML lines for a value at an indent (maps and lists nest; everything else is a scalar). */
function lines(v: unknown, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item === 'object' && item !== null && !isEmpty(item)) {
        const at = out.length;
        lines(item, indent + 2, out);
        out[at] = `${pad}- ${(out[at] as string).slice(indent + 2)}`;
      } else {
        out.push(`${pad}- ${isEmpty(item) ? (Array.isArray(item) ? '[]' : '{}') : scalar(item)}`);
      }
    }
    return;
  }
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val === undefined) continue;
    if (typeof val === 'object' && val !== null && !isEmpty(val)) {
      out.push(`${pad}${key(k)}:`);
      lines(val, indent + 2, out);
    } else {
      out.push(`${pad}${key(k)}: ${isEmpty(val) ? (Array.isArray(val) ? '[]' : '{}') : scalar(val)}`);
    }
  }
}

/** One chart's versions as they appear under `entries:` (cached per chart by the repos). */
export function renderChart(name: string, versions: IndexEntry[], format: IndexFormat): string {
  if (format === 'json') return `${JSON.stringify(name)}:${JSON.stringify(versions)}`;
  const out: string[] = [`  ${key(name)}:`];
  lines(versions, 2, out);
  return `${out.join('\n')}\n`;
}

/**
 * index.yaml from rendered charts (in name order): block YAML with every string quoted, or JSON
 * (valid YAML too, and what helm parses fastest). `generated` is when the content last changed.
 */
export function renderIndex(charts: string[], format: IndexFormat, generated: string): string {
  if (format === 'json') return `{"apiVersion":"v1","entries":{${charts.join(',')}},"generated":${JSON.stringify(generated)}}\n`;
  return `apiVersion: v1\nentries:${charts.length === 0 ? ' {}\n' : `\n${charts.join('')}`}generated: ${scalar(generated)}\n`;
}

/** renderEntries for large indexes: the same text, yielding to the event loop between slices of charts. */
export async function renderEntriesSliced(entries: Entries, format: IndexFormat, generated: string): Promise<string> {
  const pause = slicer();
  const charts: string[] = [];
  for (const n of sortedNames(entries.keys())) {
    charts.push(renderChart(n, [...(entries.get(n) ?? [])].sort(newestFirst), format));
    await pause();
  }
  return renderIndex(charts, format, generated);
}

/** Chart names in an index's order (byte-wise). */
export function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Renders a whole entries map (remote and virtual repos, which rebuild it at once). */
export function renderEntries(entries: Entries, format: IndexFormat, generated: string): string {
  return renderIndex(
    sortedNames(entries.keys()).map((n) => renderChart(n, [...(entries.get(n) ?? [])].sort(newestFirst), format)),
    format,
    generated,
  );
}
