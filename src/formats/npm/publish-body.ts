import { RegistryError } from '../../errors.ts';

/** Where an attachment's decoded bytes go while the publish document streams in. */
export interface AttachmentSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface PublishBodyLimits {
  /** The document without its attachment data, at most. */
  maxDocumentBytes: number;
  /** Attachments per document (npm sends one). */
  maxAttachments: number;
}

const bad = (msg: string): RegistryError => new RegistryError('invalid', msg, { code: 'INVALID_PUBLISH' });

interface Frame {
  array: boolean;
  /** The key of the member being read (objects). */
  key: string | null;
}

/**
 * `npm publish`'s body, read as it streams: a JSON document whose `_attachments.<file>.data` holds
 * the tarball in base64. That string alone is decoded on the fly into `sink(file)` (so a tarball of
 * hundreds of MB never sits in memory); everything else is kept, with the data strings emptied,
 * and returned as text for JSON.parse, bounded by `maxDocumentBytes`. The scanner follows JSON's
 * string and nesting structure only; the returned text is parsed strictly afterwards.
 */
export async function readPublishBody(body: AsyncIterable<Uint8Array>, limits: PublishBodyLimits, sink: (file: string) => Promise<AttachmentSink>): Promise<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const out: string[] = [];
  let outLen = 0;
  const stack: Frame[] = [];
  let inString = false;
  let escape = false;
  let isKey = false;
  let keyRaw = '';
  let expectKey = false;
  let attachments = 0;
  let data: { sink: AttachmentSink; pending: string } | null = null;
  const emit = (s: string): void => {
    outLen += s.length;
    if (outLen > limits.maxDocumentBytes) throw new RegistryError('too_large', `the publish document (without its tarball) exceeds ${limits.maxDocumentBytes} bytes`, { code: 'TOO_LARGE' });
    out.push(s);
  };
  const atData = (): string | null => {
    if (stack.length !== 3) return null;
    const [a, b, c] = stack;
    return a && b && c && !a.array && a.key === '_attachments' && !b.array && !c.array && c.key === 'data' ? b.key : null;
  };
  const decodeSome = async (final: boolean): Promise<void> => {
    if (!data) return;
    const usable = final ? data.pending.length : data.pending.length - (data.pending.length % 4);
    if (usable === 0) return;
    const chunk = data.pending.slice(0, usable);
    data.pending = data.pending.slice(usable);
    let bin: string;
    try {
      bin = atob(chunk);
    } catch {
      throw bad('an attachment is not valid base64');
    }
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    await data.sink.write(bytes);
  };
  const feed = async (text: string): Promise<void> => {
    let i = 0;
    while (i < text.length) {
      if (data) {
        // Inside the base64: take everything up to the closing quote at once (an escaped "\/" is "/").
        let j = i;
        while (j < text.length && text[j] !== '"') j++;
        data.pending += text.slice(i, j).replace(/\\\//g, '/');
        if (data.pending.includes('\\')) throw bad('an attachment holds escapes that are not base64');
        if (data.pending.length >= 1 << 16 || j < text.length) await decodeSome(j < text.length);
        if (j < text.length) {
          data = null;
          inString = false;
          emit('"');
          j++;
        }
        i = j;
        continue;
      }
      const ch = text[i] ?? '';
      i++;
      if (inString) {
        if (isKey) keyRaw += ch;
        emit(ch);
        if (escape) escape = false;
        else if (ch === '\\') escape = true;
        else if (ch === '"') {
          inString = false;
          if (isKey) {
            isKey = false;
            const top = stack[stack.length - 1];
            if (top) top.key = parseKey(keyRaw.slice(0, -1));
          }
        }
        continue;
      }
      emit(ch);
      if (ch === '"') {
        inString = true;
        if (expectKey) {
          isKey = true;
          keyRaw = '';
          expectKey = false;
          continue;
        }
        const file = atData();
        if (file !== null) {
          if (++attachments > limits.maxAttachments) throw bad(`a publish carries at most ${limits.maxAttachments} attachment(s)`);
          data = { sink: await sink(file), pending: '' };
        }
      } else if (ch === '{' || ch === '[') {
        if (stack.length >= 64) throw bad('the publish document nests too deeply');
        stack.push({ array: ch === '[', key: null });
        expectKey = ch === '{';
      } else if (ch === '}' || ch === ']') {
        stack.pop();
        expectKey = false;
      } else if (ch === ',') {
        const top = stack[stack.length - 1];
        expectKey = top !== undefined && !top.array;
      }
    }
  };
  try {
    for await (const chunk of body) await feed(decoder.decode(chunk, { stream: true }));
    await feed(decoder.decode());
  } catch (e) {
    if (e instanceof TypeError) throw bad('the publish document is not UTF-8');
    throw e;
  }
  if (data || inString || stack.length > 0) throw bad('the publish document ends early');
  return out.join('');
}

function parseKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    throw bad('the publish document has a malformed key');
  }
}
