import { RegistryError } from '../../errors.ts';

/** An element of a small XML document: its name, child elements and direct text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 16;
const MAX_ELEMENTS = 500_000;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

const bad = (m: string): RegistryError => new RegistryError('invalid', `not a Maven metadata document: ${m}`, { code: 'METADATA_INVALID' });

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);?/g, (m, e: string) => {
    if (!m.endsWith(';')) throw bad('a bare "&"');
    if (e.startsWith('#x')) return String.fromCodePoint(Math.min(parseInt(e.slice(2), 16), 0x10ffff));
    if (e.startsWith('#')) return String.fromCodePoint(Math.min(parseInt(e.slice(1), 10), 0x10ffff));
    const p = PREDEFINED[e];
    if (p === undefined) throw bad(`the entity &${e}; (only XML's five are known; entities are never expanded)`);
    return p;
  });
}

/**
 * Reads the XML Maven metadata is written in, and nothing more: elements, text, comments, CDATA and
 * the XML declaration. A document type declaration is refused outright, so no entity (external:
 * XXE; nested: "billion laughs") can ever be defined, let alone expanded; depth and element count
 * are bounded. Attributes are read past (metadata carries none that matter).
 */
export function parseXml(src: string): XmlElement {
  const root: XmlElement = { name: '', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let count = 0;
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    const top = stack[stack.length - 1] as XmlElement;
    const textEnd = lt < 0 ? src.length : lt;
    if (textEnd > i) top.text += decode(src.slice(i, textEnd));
    if (lt < 0) break;
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      if (end < 0) throw bad('an unclosed comment');
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', lt)) {
      const end = src.indexOf(']]>', lt + 9);
      if (end < 0) throw bad('an unclosed CDATA section');
      top.text += src.slice(lt + 9, end);
      i = end + 3;
    } else if (src.startsWith('<!', lt)) {
      throw bad('a DOCTYPE or other declaration (refused: entities are never defined or expanded)');
    } else if (src.startsWith('<?', lt)) {
      const end = src.indexOf('?>', lt + 2);
      if (end < 0) throw bad('an unclosed processing instruction');
      i = end + 2;
    } else if (src.startsWith('</', lt)) {
      const end = src.indexOf('>', lt);
      const name = end < 0 ? '' : src.slice(lt + 2, end).trim();
      if (stack.length < 2 || name !== top.name) throw bad(`an unexpected </${name.slice(0, 40)}>`);
      stack.pop();
      i = end + 1;
    } else {
      const end = src.indexOf('>', lt);
      if (end < 0) throw bad('an unclosed tag');
      const inner = src.slice(lt + 1, end);
      const selfClosing = inner.endsWith('/');
      const name = /^[A-Za-z_][\w.:-]*/.exec(inner)?.[0];
      if (!name) throw bad('a tag without a name');
      if (++count > MAX_ELEMENTS) throw bad(`more than ${MAX_ELEMENTS} elements`);
      const el: XmlElement = { name, children: [], text: '' };
      top.children.push(el);
      if (!selfClosing) {
        if (stack.length > MAX_DEPTH) throw bad(`nested deeper than ${MAX_DEPTH}`);
        stack.push(el);
      }
      i = end + 1;
    }
  }
  if (stack.length !== 1) throw bad(`<${(stack[stack.length - 1] as XmlElement).name}> is not closed`);
  const top = root.children;
  if (top.length !== 1 || !top[0]) throw bad('not exactly one root element');
  return top[0];
}

/** The first child named `name`. */
export const child = (el: XmlElement | undefined, name: string): XmlElement | undefined => el?.children.find((c) => c.name === name);

/** The trimmed text of the first child named `name` (undefined when empty or absent). */
export function textOf(el: XmlElement | undefined, name: string): string | undefined {
  const t = child(el, name)?.text.trim();
  return t ? t : undefined;
}

/** Text as XML content. */
export const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
