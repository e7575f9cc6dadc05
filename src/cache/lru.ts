/**
 * A small least-recently-used map, bounded by entries and by a byte budget. Map keeps insertion
 * order, so re-inserting on every hit makes the first key the least recently used.
 */
export class Lru<V> {
  private readonly map = new Map<string, { value: V; size: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
    private readonly sizeOf: (v: V) => number = () => 0,
  ) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: string, value: V): void {
    this.delete(key);
    const size = this.sizeOf(value);
    if (size > this.maxBytes) return;
    this.map.set(key, { value, size });
    this.bytes += size;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  /** Forgets every key under a prefix (a removed folder). */
  clear(prefix: string): void {
    for (const key of [...this.map.keys()]) if (key === prefix || key.startsWith(`${prefix}/`)) this.delete(key);
  }

  /** Forgets every entry whose value matches (rare: a refused token). */
  deleteWhere(match: (v: V) => boolean): void {
    for (const [key, e] of [...this.map]) if (match(e.value)) this.delete(key);
  }

  get size(): number {
    return this.map.size;
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= e.size;
  }
}
