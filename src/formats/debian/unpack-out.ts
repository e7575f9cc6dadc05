/**
 * The output of a decompressor (xz.ts, zstd.ts): grown as needed up to the caller's bound, so a
 * decompression bomb stops there; LZ77 matches are copied from what was written (the window).
 */
export class UnpackOut {
  buf = new Uint8Array(1 << 16);
  len = 0;

  constructor(
    private readonly max: number,
    private readonly fail: (m: string) => never,
  ) {}

  ensure(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    if (this.len + n > this.max) this.fail(`unpacks to more than ${this.max} bytes`);
    let size = this.buf.byteLength;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(Math.min(size, this.max));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  put(b: number): void {
    if (this.len >= this.buf.byteLength) this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.byteLength);
    this.buf.set(src, this.len);
    this.len += src.byteLength;
  }

  /** `n` bytes from `dist` back; `floor` is where the window starts (a dictionary reset, a frame). */
  match(dist: number, n: number, floor: number): void {
    if (dist > this.len - floor || dist === 0) this.fail('a match reaches before the start of the window');
    this.ensure(n);
    for (let i = 0; i < n; i++, this.len++) this.buf[this.len] = this.buf[this.len - dist] ?? 0;
  }

  back(dist: number): number {
    return this.buf[this.len - dist] ?? 0;
  }
}
