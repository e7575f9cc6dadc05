/**
 * A runtime's own form of an upstream response body, when its adapter's fetch has one that is
 * cheaper to read than the Web stream (Node: the socket's IncomingMessage, which undici's fetch
 * reads 2-4× slower on loopback). The Response still carries an equivalent Web stream over the
 * same source; a consumer uses one of the two, never both.
 */
export interface NativeBody extends AsyncIterable<Uint8Array> {
  /**
   * Ends the body at once, failing a read in progress: an async iterator's return() would wait for
   * that read, which a stalled upstream never finishes.
   */
  cancel(): void;
}

const native = new WeakMap<Response, NativeBody>();

export function withNativeBody(res: Response, body: NativeBody): Response {
  native.set(res, body);
  return res;
}

/** The cheapest readable form of a response's body (the native one, else the Web stream). */
export function bodyOf(res: Response): NativeBody | ReadableStream<Uint8Array> | null {
  return native.get(res) ?? res.body;
}
