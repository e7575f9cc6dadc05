import { RegistryError } from '../errors.ts';

/** One part of a multipart/form-data body; its body must be read (or drained) before the next part. */
export interface Part {
  name: string;
  filename: string | undefined;
  body: AsyncIterable<Uint8Array>;
}

const MAX_HEADERS = 16 << 10;
const enc = new TextEncoder();
const bad = (why: string): RegistryError => new RegistryError('invalid', `malformed multipart body: ${why}`, { code: 'INVALID_MULTIPART' });

/** The boundary of a `multipart/form-data` content type, or null. */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  outer: for (let i = hay.indexOf(first as number, from); i >= 0 && i <= hay.length - needle.length; i = hay.indexOf(first as number, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** What one form may hold: its bytes in all (parts drained unread count too) and its parts. */
export interface MultipartLimits {
  maxBytes: number;
  maxParts: number;
}

/**
 * Streams the parts of a multipart/form-data body (RFC 7578) without holding a part whole: a
 * part's bytes are passed on as they arrive, keeping back only what could be the start of the
 * boundary. Part headers, the body's total bytes and the number of parts are bounded (an endless
 * unknown part was drained without limit: 1.9 GB in 15 s; 64 MiB of tiny parts cost 16 s of CPU);
 * anything malformed is a 400, too much a 413.
 */
export async function* multipartParts(body: AsyncIterable<Uint8Array>, boundary: string, limits: MultipartLimits): AsyncGenerator<Part> {
  const it = body[Symbol.asyncIterator]();
  try {
    yield* parts(it, boundary, limits);
  } finally {
    // Stop the body (and its idle watchdog) however the parts ended: closing boundary, error, or caller gone.
    await it.return?.();
  }
}

async function* parts(it: AsyncIterator<Uint8Array>, boundary: string, limits: MultipartLimits): AsyncGenerator<Part> {
  let buf: Uint8Array = new Uint8Array(0);
  let ended = false;
  let total = 0;
  let count = 0;
  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      return false;
    }
    total += r.value.byteLength;
    if (total > limits.maxBytes) throw new RegistryError('too_large', `the form is larger than ${limits.maxBytes} bytes`, { code: 'TOO_LARGE' });
    const next = new Uint8Array(buf.length + r.value.length);
    next.set(buf);
    next.set(r.value, buf.length);
    buf = next;
    return true;
  };
  const delimiter = enc.encode(`\r\n--${boundary}`);
  // The first boundary may open the body (no CRLF before it): search as if one preceded it.
  buf = Uint8Array.from([13, 10]);
  for (;;) {
    const at = indexOf(buf, delimiter, 0);
    if (at >= 0) {
      buf = buf.subarray(at + delimiter.length);
      break;
    }
    if (buf.length > MAX_HEADERS) throw bad('no opening boundary');
    if (!(await more())) throw bad('no opening boundary');
  }
  for (;;) {
    while (buf.length < 2) if (!(await more())) throw bad('truncated after a boundary');
    if (buf[0] === 45 && buf[1] === 45) return; // "--": the closing boundary
    if (++count > limits.maxParts) throw bad(`more than ${limits.maxParts} parts`);
    let headEnd = indexOf(buf, enc.encode('\r\n\r\n'), 0);
    while (headEnd < 0) {
      if (buf.length > MAX_HEADERS) throw bad('part headers too large');
      if (!(await more())) throw bad('truncated part headers');
      headEnd = indexOf(buf, enc.encode('\r\n\r\n'), 0);
    }
    const head = new TextDecoder().decode(buf.subarray(0, headEnd));
    buf = buf.subarray(headEnd + 4);
    const disposition = /(?:^|\r\n)content-disposition:\s*form-data\s*;([^\r\n]*)/i.exec(head)?.[1];
    const name = disposition ? /(?:^|;)\s*name="([^"]*)"/i.exec(disposition)?.[1] : undefined;
    if (name === undefined) throw bad('a part without a form-data name');
    const filename = disposition ? /(?:^|;)\s*filename="([^"]*)"/i.exec(disposition)?.[1] : undefined;
    let done = false;
    async function* partBody(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const at = indexOf(buf, delimiter, 0);
        if (at >= 0) {
          if (at > 0) yield buf.slice(0, at);
          buf = buf.subarray(at + delimiter.length);
          done = true;
          return;
        }
        const keep = delimiter.length - 1;
        if (buf.length > keep) {
          const out = buf.slice(0, buf.length - keep);
          buf = buf.subarray(buf.length - keep);
          yield out;
        }
        if (!(await more())) throw bad('truncated part');
      }
    }
    const partIt = partBody();
    yield { name, filename, body: { [Symbol.asyncIterator]: () => partIt } };
    // The caller may not have read it all: drain what is left of this part.
    if (!done) for await (const _ of partIt) void _;
  }
}
