/**
 * Maven's version order (ComparableVersion), as far as real repositories need it: numbers compare
 * as numbers, trailing zeros of a numeric run do not count (1.0 = 1, 1.0-rc1 = 1-rc1), and
 * qualifiers rank alpha < beta < milestone < rc = cr < snapshot < (release: "", ga, final) < sp,
 * then any other qualifier by name. A number outranks a qualifier at the same place (1.0.1 > 1.0-sp).
 * Separators are not told apart ('-' and '.' nest differently in Maven): rare enough to accept.
 */
type Item = { n: bigint } | { q: string };

const RANKS: Record<string, number> = { alpha: 0, beta: 1, milestone: 2, rc: 3, snapshot: 4, '': 5, sp: 6 };
const ALIASES: Record<string, string> = { a: 'alpha', b: 'beta', m: 'milestone', cr: 'rc', ga: '', final: '', release: '' };

function items(v: string): Item[] {
  const raw = v.toLowerCase().match(/\d+|[a-z]+/g) ?? [];
  const out: Item[] = [];
  for (let i = 0; i < raw.length; i++) {
    const t = raw[i] ?? '';
    if (/^\d/.test(t)) {
      out.push({ n: BigInt(t) });
      continue;
    }
    // Single-letter aliases only count before a number ("a1" is alpha-1, "a" alone a qualifier named a).
    const alias = ALIASES[t];
    const q = alias !== undefined && (t.length > 1 || /^\d/.test(raw[i + 1] ?? '')) ? alias : t;
    out.push({ q });
  }
  // Trailing zeros of each numeric run (and release qualifiers at the end) carry no order.
  const trimmed: Item[] = [];
  for (let i = 0; i < out.length; i++) {
    const it = out[i] as Item;
    if ('n' in it && it.n === 0n) {
      let j = i;
      while (j < out.length && 'n' in (out[j] as Item) && (out[j] as { n: bigint }).n === 0n) j++;
      if (j === out.length || 'q' in (out[j] as Item)) {
        i = j - 1;
        continue;
      }
    }
    trimmed.push(it);
  }
  while (trimmed.length > 0) {
    const last = trimmed[trimmed.length - 1] as Item;
    if ('q' in last && last.q === '') trimmed.pop();
    else break;
  }
  return trimmed;
}

function rank(q: string): [number, string] {
  const r = RANKS[q];
  return r !== undefined ? [r, ''] : [7, q];
}

function compareItem(a: Item | undefined, b: Item | undefined): number {
  if (a === undefined && b === undefined) return 0;
  if (a === undefined) return -compareItem(b, a);
  if ('n' in a) {
    if (b === undefined) return a.n === 0n ? 0 : 1;
    if ('n' in b) return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    return 1;
  }
  // A qualifier against nothing is against the release rank.
  if (b === undefined) return compareRank(rank(a.q), rank(''));
  if ('n' in b) return -1;
  return compareRank(rank(a.q), rank(b.q));
}

function compareRank(a: [number, string], b: [number, string]): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

export function compareMavenVersions(x: string, y: string): number {
  const a = items(x);
  const b = items(y);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareItem(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

export const isSnapshotVersion = (v: string): boolean => v.endsWith('-SNAPSHOT');
