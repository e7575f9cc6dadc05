/**
 * PEP 440 versions: the grammar (as the `packaging` library's VERSION_PATTERN, case-insensitive)
 * and an order good for listings (newest first) and "latest": epoch, release, pre, post, dev as
 * PEP 440 defines them; local versions sort after their public version, compared as text.
 */
const PATTERN =
  /^\s*v?(?:(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?)(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$/i;

export function isPep440(v: string): boolean {
  return v.length <= 128 && PATTERN.test(v);
}

interface Key {
  epoch: number;
  release: number[];
  pre: [number, number] | null;
  post: number | null;
  dev: number | null;
  local: string;
}

const PRE: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };

function keyOf(v: string): Key | null {
  const m = PATTERN.exec(v);
  if (!m) return null;
  const release = (m[2] ?? '0').split('.').map(Number);
  while (release.length > 1 && release[release.length - 1] === 0) release.pop();
  const pre = m[3] ? ([PRE[m[3].toLowerCase()] ?? 0, Number(m[4] ?? 0)] as [number, number]) : null;
  const post = m[5] !== undefined ? Number(m[5]) : m[6] ? Number(m[7] ?? 0) : null;
  const dev = m[8] ? Number(m[9] ?? 0) : null;
  return { epoch: Number(m[1] ?? 0), release, pre, post, dev, local: (m[10] ?? '').toLowerCase() };
}

const cmp = (a: number, b: number): number => (a < b ? -1 : a > b ? 1 : 0);

/** The canonical form PEP 440 compares by (`1.0.0` and `1.0` are equal versions). */
export function sameVersion(a: string, b: string): boolean {
  return comparePep440(a, b) === 0;
}

/** Ascending PEP 440 order; versions that do not parse sort first, as text. */
export function comparePep440(a: string, b: string): number {
  const x = keyOf(a);
  const y = keyOf(b);
  if (!x || !y) return x ? 1 : y ? -1 : a < b ? -1 : a > b ? 1 : 0;
  if (x.epoch !== y.epoch) return cmp(x.epoch, y.epoch);
  for (let i = 0; i < Math.max(x.release.length, y.release.length); i++) {
    const c = cmp(x.release[i] ?? 0, y.release[i] ?? 0);
    if (c !== 0) return c;
  }
  // A dev release of a version with no pre or post sorts before its pre-releases (1.0.dev0 < 1.0a1).
  const preRank = (k: Key): [number, number] => (k.pre ? [1, k.pre[0] * 1e9 + k.pre[1]] : k.dev !== null && k.post === null ? [0, 0] : [2, 0]);
  const [pa, pb] = [preRank(x), preRank(y)];
  if (pa[0] !== pb[0] || pa[1] !== pb[1]) return pa[0] !== pb[0] ? cmp(pa[0], pb[0]) : cmp(pa[1], pb[1]);
  const c = cmp(x.post ?? -1, y.post ?? -1);
  if (c !== 0) return c;
  const d = cmp(x.dev ?? Number.POSITIVE_INFINITY, y.dev ?? Number.POSITIVE_INFINITY);
  if (d !== 0) return d;
  return x.local < y.local ? -1 : x.local > y.local ? 1 : 0;
}

/** Pre-releases, and dev releases, are left out of "latest" when anything else exists. */
export function isPrerelease(v: string): boolean {
  const k = keyOf(v);
  return !!k && (k.pre !== null || k.dev !== null);
}
