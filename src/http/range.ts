/**
 * Single-range `Range: bytes=` parsing (RFC 9110 §14). Registries and containerd only ever ask for
 * one range; multi-range requests are answered with the whole body, which the RFC allows.
 */
export type RangeResult =
  | { kind: 'none' }
  | { kind: 'ok'; start: number; end: number } // end inclusive
  | { kind: 'unsatisfiable' };

export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return { kind: 'none' }; // malformed or multi-range: ignore, serve 200
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return { kind: 'none' };
  if (a.length > 15 || b.length > 15) return { kind: 'unsatisfiable' };
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'ok', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (start >= size || (b !== '' && Number(b) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'ok', start, end };
}
