import { HASH_SIZE, TILE_WIDTH, foldRoot, hashAt, hashesAtLevel, rootParts, sameBytes, subtreeRoot, tileOf } from './tlog.ts';
import type { TileRef, Tree } from './tlog.ts';

/** Where verified tiles come from and go to. */
export interface TileSource {
  /** Verified hashes we already hold for tile (level, index) covering at least `width` hashes, else null. */
  stored(level: number, index: number, width: number): Promise<Uint8Array | null>;
  /** The tile exactly as named, from the upstream (not yet verified). */
  fetch(ref: TileRef): Promise<Uint8Array>;
  /** Keeps a tile once it is verified. */
  keep(ref: TileRef, bytes: Uint8Array): Promise<void>;
}

/** The upstream served bytes that the signed tree contradicts. */
export class VerificationError extends Error {}

/**
 * Verifies hashes of one signed tree. Its right edge (the partial tile of every level) must fold to
 * the signed root hash; a full tile must hash to the entry its parent tile holds for it, and so on
 * up to the edge. Tiles kept once verified are trusted afterwards: a tree is only ever checked
 * against hashes of trees already proven consistent with it.
 */
export class TreeVerifier {
  private readonly tiles = new Map<string, Promise<Uint8Array>>();
  private edgeDone: Promise<Map<number, Uint8Array>> | null = null;

  constructor(
    readonly tree: Tree,
    private readonly source: TileSource,
  ) {
    if (!Number.isSafeInteger(tree.n) || tree.n < 1) throw new VerificationError('a signed tree must hold at least one record');
  }

  /** The verified hashes of tile (level, index) in this tree: 256, or the edge tile's width. */
  tile(level: number, index: number): Promise<Uint8Array> {
    const key = `${level}/${index}`;
    let p = this.tiles.get(key);
    if (!p) {
      p = this.load(level, index);
      this.tiles.set(key, p);
      p.catch(() => this.tiles.delete(key));
    }
    return p;
  }

  /** Hash `index` of tree level 8·level (a record hash at level 0). */
  async hash(level: number, index: number): Promise<Uint8Array> {
    return hashAt(await this.tile(level, Math.floor(index / TILE_WIDTH)), index % TILE_WIDTH);
  }

  /** The root hash of the tree's first m records, computed from this tree's verified hashes. */
  async rootOf(m: number): Promise<Uint8Array> {
    if (m < 1 || m > this.tree.n) throw new VerificationError(`no tree of ${m} records inside one of ${this.tree.n}`);
    const parts: Uint8Array[] = [];
    for (const p of rootParts(m)) {
      const t = await this.tile(p.level, Math.floor(p.index / TILE_WIDTH));
      const first = p.index % TILE_WIDTH;
      parts.push(subtreeRoot(Array.from({ length: p.count }, (_, i) => hashAt(t, first + i))));
    }
    return foldRoot(parts);
  }

  /** Proves an earlier (or equal) tree is a prefix of this one; a different root is a fork. */
  async checkPrefix(older: Tree): Promise<void> {
    if (!sameBytes(await this.rootOf(older.n), older.hash)) {
      throw new VerificationError(`signed tree of ${older.n} records is not a prefix of the signed tree of ${this.tree.n} records`);
    }
  }

  /** Fetches (or reads) the edge tiles and checks they fold to the signed root. */
  edge(): Promise<Map<number, Uint8Array>> {
    if (!this.edgeDone) {
      this.edgeDone = this.loadEdge();
      this.edgeDone.catch(() => (this.edgeDone = null));
    }
    return this.edgeDone;
  }

  private async load(level: number, index: number): Promise<Uint8Array> {
    const ref = tileOf(this.tree.n, level, index);
    if (!ref) throw new VerificationError(`tile ${level}/${index} is beyond the signed tree of ${this.tree.n} records`);
    if (ref.width < TILE_WIDTH) {
      const edge = (await this.edge()).get(level);
      if (!edge) throw new VerificationError(`no edge tile at level ${level}`);
      return edge;
    }
    const kept = await this.source.stored(level, index, TILE_WIDTH);
    if (kept) return kept;
    const data = await this.source.fetch(ref);
    if (data.byteLength !== TILE_WIDTH * HASH_SIZE) throw new VerificationError(`tile ${level}/${index}: ${data.byteLength} bytes, a full tile has ${TILE_WIDTH * HASH_SIZE}`);
    const root = subtreeRoot(Array.from({ length: TILE_WIDTH }, (_, i) => hashAt(data, i)));
    const parent = await this.hash(level + 1, index);
    if (!sameBytes(root, parent)) throw new VerificationError(`tile ${level}/${index} does not hash to the entry its parent tile holds`);
    await this.source.keep(ref, data);
    return data;
  }

  private async loadEdge(): Promise<Map<number, Uint8Array>> {
    const edge = new Map<number, Uint8Array>();
    const fetched: TileRef[] = [];
    for (let level = 0; hashesAtLevel(this.tree.n, level) > 0; level++) {
      const count = hashesAtLevel(this.tree.n, level);
      const width = count % TILE_WIDTH;
      if (width === 0) continue;
      const ref = { level, index: Math.floor(count / TILE_WIDTH), width };
      const kept = await this.source.stored(level, ref.index, width);
      const data = kept ? kept.subarray(0, width * HASH_SIZE) : await this.source.fetch(ref);
      if (data.byteLength !== width * HASH_SIZE) throw new VerificationError(`tile ${level}/${ref.index}.p/${width}: ${data.byteLength} bytes, expected ${width * HASH_SIZE}`);
      if (!kept) fetched.push(ref);
      edge.set(level, data);
    }
    const parts = rootParts(this.tree.n).map((p) => {
      const t = edge.get(p.level) as Uint8Array;
      const first = p.index % TILE_WIDTH;
      return subtreeRoot(Array.from({ length: p.count }, (_, i) => hashAt(t, first + i)));
    });
    if (!sameBytes(foldRoot(parts), this.tree.hash)) throw new VerificationError(`the tiles at the edge of the tree of ${this.tree.n} records do not hash to its signed root`);
    for (const ref of fetched) await this.source.keep(ref, edge.get(ref.level) as Uint8Array);
    return edge;
  }
}
