/**
 * SemVer 2.0.0 (semver.org), as chart versions must be: MAJOR.MINOR.PATCH, optional pre-release and
 * build metadata, no leading zeros in numeric identifiers. Precedence ignores build metadata.
 */
const NUM = '(0|[1-9]\\d*)';
const PRE_ID = '(?:0|[1-9]\\d*|\\d*[A-Za-z-][0-9A-Za-z-]*)';
const SEMVER = new RegExp(`^${NUM}\\.${NUM}\\.${NUM}(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$`);

export function isSemver(v: string): boolean {
  return v.length <= 256 && SEMVER.test(v);
}

/** Precedence: negative when a < b. Both must be valid. */
export function compareSemver(a: string, b: string): number {
  const x = SEMVER.exec(a);
  const y = SEMVER.exec(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  const p = x[4];
  const q = y[4];
  if (p === undefined || q === undefined) return p === q ? 0 : p === undefined ? 1 : -1;
  const ps = p.split('.');
  const qs = q.split('.');
  for (let i = 0; i < Math.min(ps.length, qs.length); i++) {
    const m = ps[i] as string;
    const n = qs[i] as string;
    if (m === n) continue;
    const mn = /^\d+$/.test(m);
    const nn = /^\d+$/.test(n);
    if (mn && nn) return Number(m) - Number(n);
    if (mn !== nn) return mn ? -1 : 1;
    return m < n ? -1 : 1;
  }
  return ps.length - qs.length;
}
