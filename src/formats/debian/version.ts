/** dpkg's version order (deb-version(7)): epoch, then upstream version, then revision, each by verrevcmp. */

const order = (s: string, i: number): number => {
  const c = s.charCodeAt(i);
  if (i >= s.length || (c >= 48 && c <= 57)) return 0;
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) return c;
  return c === 126 ? -1 : c + 256;
};

const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a, i)) || (j < b.length && !isDigit(b, j))) {
      const d = order(a, i) - order(b, j);
      if (d) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (isDigit(a, i) && isDigit(b, j)) {
      if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a, i)) return 1;
    if (isDigit(b, j)) return -1;
    if (first) return first;
  }
  return 0;
}

function parts(v: string): [number, string, string] {
  const colon = v.indexOf(':');
  const epoch = colon > 0 ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash > 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ''];
}

/** <0, 0, >0 as dpkg --compare-versions orders a and b. */
export function compareVersions(a: string, b: string): number {
  const [ea, ua, ra] = parts(a);
  const [eb, ub, rb] = parts(b);
  if (ea !== eb) return ea - eb;
  return verrevcmp(ua, ub) || verrevcmp(ra, rb);
}
