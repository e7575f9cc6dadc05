import { createHash } from 'node:crypto';
import { fromBase64 } from '../../../util/base64.ts';

/**
 * The transparent log behind a Go checksum database (golang.org/x/mod/sumdb/tlog, itself RFC 6962
 * hashing): a record's hash is SHA-256(0x00 || record), an inner node's SHA-256(0x01 || left ||
 * right). Hashes are served in tiles of height 8: tile (L, K) holds the hashes of tree level 8·L with
 * indexes 256·K … 256·K+255 (a partial tile `.p/W` the first W of them); level −1 (`data`) holds
 * the records themselves.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;
export const HASH_SIZE = 32;

export interface Tree {
  n: number;
  hash: Uint8Array;
}

/** A tile address: level `L` (−1 for record data), index `K`, width `w` (256 when full). */
export interface TileRef {
  level: number;
  index: number;
  width: number;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const ZERO = Uint8Array.of(0);
const ONE = Uint8Array.of(1);

export const recordHash = (data: Uint8Array): Uint8Array => sha256(ZERO, data);
export const nodeHash = (left: Uint8Array, right: Uint8Array): Uint8Array => sha256(ONE, left, right);

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The root of a complete subtree whose leaves are `hashes` (a power of two of them). */
export function subtreeRoot(hashes: Uint8Array[]): Uint8Array {
  let row = hashes;
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i] as Uint8Array, row[i + 1] as Uint8Array));
    row = next;
  }
  const root = row[0];
  if (!root) throw new Error('subtreeRoot of nothing');
  return root;
}

/** The i-th 32-byte hash of a tile's bytes. */
export const hashAt = (tile: Uint8Array, i: number): Uint8Array => tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);

/** How many level-8·L hashes a tree of n records has: the complete subtrees of height 8·L. */
export const hashesAtLevel = (n: number, level: number): number => Math.floor(n / 2 ** (TILE_HEIGHT * level));

/**
 * The tile of a tree of n records that holds hash `index` of level 8·L: full when the tree has all
 * 256 of its hashes, else the partial one at the tree's right edge.
 */
export function tileOf(n: number, level: number, index: number): TileRef | null {
  const count = hashesAtLevel(n, level);
  if (index * TILE_WIDTH >= count) return null;
  return { level, index, width: Math.min(TILE_WIDTH, count - index * TILE_WIDTH) };
}

/**
 * The subtree hashes a tree's root folds together (its size's binary digits, largest first), each
 * as the run of level-8·L hashes it is made of: `level`, first `index`, and `count` (a power of two
 * under 256, so the run lies inside one tile).
 */
export function rootParts(n: number): { level: number; index: number; count: number }[] {
  const parts: { level: number; index: number; count: number }[] = [];
  for (let b = Math.floor(Math.log2(Math.max(n, 1))) + 1; b >= 0; b--) {
    const above = Math.floor(n / 2 ** b);
    if (above % 2 === 0) continue;
    const level = Math.floor(b / TILE_HEIGHT);
    const count = 2 ** (b - level * TILE_HEIGHT);
    parts.push({ level, index: (above - 1) * count, count });
  }
  return parts;
}

/** RFC 6962's root over complete subtrees given largest first: H(s1, H(s2, … sk)). */
export function foldRoot(subtrees: Uint8Array[]): Uint8Array {
  let h = subtrees[subtrees.length - 1];
  if (!h) throw new Error('empty tree');
  for (let i = subtrees.length - 2; i >= 0; i--) h = nodeHash(subtrees[i] as Uint8Array, h);
  return h;
}

/** `tile/8/<L>/<K>[.p/<W>]` with K written as the spec does: 3-digit groups, all but the last `x`-prefixed. */
export function tilePath(t: TileRef): string {
  let k = String(t.index);
  k = '0'.repeat((3 - (k.length % 3)) % 3) + k;
  const groups = k.match(/\d{3}/g) ?? [];
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `tile/${TILE_HEIGHT}/${t.level < 0 ? 'data' : t.level}/${n}${t.width < TILE_WIDTH ? `.p/${t.width}` : ''}`;
}

/** The tile a request path names (after `tile/`), only in its canonical form; null otherwise. */
export function parseTilePath(path: string): TileRef | null {
  const m = /^tile\/(\d+)\/(data|\d+)\/((?:x\d{3}\/)*\d{3})(?:\.p\/(\d+))?$/.exec(path);
  if (!m || m[1] !== String(TILE_HEIGHT)) return null;
  const level = m[2] === 'data' ? -1 : Number(m[2]);
  const index = Number((m[3] ?? '').replace(/[x/]/g, ''));
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (level > 8 || !Number.isSafeInteger(index) || width < 1 || width > TILE_WIDTH || (m[4] !== undefined && width === TILE_WIDTH)) return null;
  const t = { level, index, width };
  return tilePath(t) === path ? t : null;
}

/** A signed tree's text: `go.sum database tree\n<N>\n<base64 hash>\n` (later lines are ignored, as the go command does). */
export function parseTree(text: string): Tree | null {
  const m = /^go\.sum database tree\n(0|[1-9]\d{0,15})\n([A-Za-z0-9+/]{43}=)\n/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const hash = fromBase64(m[2] ?? '');
  return Number.isSafeInteger(n) && hash?.byteLength === HASH_SIZE ? { n, hash } : null;
}

/** A record as lookups and data tiles frame it: `<id>\n<text>\n` where text is non-empty lines. */
export function parseRecord(bytes: Uint8Array, from = 0): { id: number; text: Uint8Array; end: number } | null {
  const nl = bytes.indexOf(10, from);
  if (nl < 0 || nl - from > 16) return null;
  const idText = new TextDecoder().decode(bytes.subarray(from, nl));
  if (!/^(0|[1-9]\d*)$/.test(idText)) return null;
  const start = nl + 1;
  for (let i = start; i < bytes.byteLength; i++) {
    const c = bytes[i] as number;
    if (c === 10 && bytes[i + 1] === 10 && i > start) return { id: Number(idText), text: bytes.subarray(start, i + 1), end: i + 2 };
    if ((c < 0x20 && c !== 10) || c === 0x7f || (c === 10 && i === start)) return null;
  }
  return null;
}
