import { badCrate } from './names.ts';

/**
 * The body of `cargo publish` read as it arrives: a u32 (little-endian) length, that many bytes of
 * JSON, a u32 length, that many bytes of .crate. The JSON is bounded and read whole; the crate is
 * handed on chunk by chunk (never buffered); a body that ends early or runs past its lengths is
 * refused.
 */
export class PublishFrame {
  private readonly reader: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);

  constructor(body: AsyncIterable<Uint8Array>) {
    this.reader = body[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    const { done, value } = await this.reader.next();
    if (done) return false;
    this.pending = this.pending.byteLength === 0 ? value : concat(this.pending, value);
    return true;
  }

  private async exact(n: number, what: string): Promise<Uint8Array> {
    while (this.pending.byteLength < n) if (!(await this.more())) throw badCrate(`the publish body ended inside the ${what} (${this.pending.byteLength} of ${n} bytes)`);
    const out = this.pending.slice(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  private async u32(what: string): Promise<number> {
    const b = await this.exact(4, `length of the ${what}`);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  /** The metadata JSON (refused above maxBytes before a byte of it is read). */
  async json(maxBytes: number): Promise<unknown> {
    const n = await this.u32('metadata');
    if (n > maxBytes) throw badCrate(`the publish metadata is ${n} bytes; at most ${maxBytes} are taken`);
    const bytes = await this.exact(n, 'metadata');
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw badCrate('the publish metadata is not JSON');
    }
  }

  /** The crate's length (refused above maxBytes, as too_large), then its bytes as they come. */
  async crateLength(maxBytes: number, tooLarge: (n: number) => Error): Promise<number> {
    const n = await this.u32('crate');
    if (n > maxBytes) throw tooLarge(n);
    if (n === 0) throw badCrate('the crate is empty');
    return n;
  }

  async *crate(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.pending.byteLength === 0 && !(await this.more())) throw badCrate(`the publish body ended inside the crate (${n - left} of ${n} bytes)`);
      const take = this.pending.subarray(0, Math.min(left, this.pending.byteLength));
      this.pending = this.pending.subarray(take.byteLength);
      left -= take.byteLength;
      yield take;
    }
  }

  /** Nothing may follow the crate. */
  async end(): Promise<void> {
    if (this.pending.byteLength > 0 || (await this.more())) {
      await this.cancel();
      throw badCrate('the publish body has bytes after the crate');
    }
  }

  async cancel(): Promise<void> {
    await this.reader.return?.().catch(() => {});
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
