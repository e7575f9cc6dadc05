import { RegistryError } from '../../errors.ts';

/**
 * Debian's control-file syntax (deb822): stanzas separated by blank lines, `Field: value` lines,
 * continuation lines starting with a space or tab. One parser and one writer for the control file
 * of a .deb, Packages indexes and Release files. The writer is where stanza injection is stopped:
 * no value it writes can end a stanza or start a field.
 */

/** A stanza's fields in their order; a multi-line value keeps its continuation lines (leading blank and all) after "\n". */
export type Stanza = Array<[string, string]>;

export const badPackage = (m: string): RegistryError => new RegistryError('invalid', m, { code: 'INVALID_PACKAGE' });

export function field(s: Stanza, name: string): string | undefined {
  const lower = name.toLowerCase();
  return s.find(([k]) => k.toLowerCase() === lower)?.[1];
}

/** Stanzas of a control text; `strict` refuses what apt would misread (used for uploads), else skips it. */
export function parseStanzas(text: string, strict = false): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (cur.length) out.push(cur);
      cur = [];
      continue;
    }
    if (line.startsWith('#')) continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      const last = cur[cur.length - 1];
      if (!last) {
        if (strict) throw badPackage(`control line ${i + 1} continues no field`);
        continue;
      }
      last[1] += `\n${line}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      if (strict) throw badPackage(`control line ${i + 1} is not "Field: value"`);
      continue;
    }
    cur.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  if (cur.length) out.push(cur);
  return out;
}

const FIELD_NAME = /^[!-9;-~]+$/;

/** One stanza as text (no trailing blank line); throws on a name or value that would break the syntax. */
export function renderStanza(s: Stanza): string {
  const lines: string[] = [];
  for (const [k, v] of s) {
    if (!FIELD_NAME.test(k) || k.startsWith('#') || k.startsWith('-')) throw badPackage(`"${k.slice(0, 60)}" is not a control field name`);
    if (/[\r\0]/.test(v)) throw badPackage(`field ${k} holds a carriage return or NUL`);
    const [first = '', ...rest] = v.split('\n');
    const cont = rest.map((l) => {
      // A continuation line must start with a blank, and an empty one is " ." (an empty line would end the stanza).
      if (!l.startsWith(' ') && !l.startsWith('\t')) throw badPackage(`field ${k} has a line that does not start with a space`);
      return l.trim() === '' ? ' .' : l;
    });
    lines.push(first === '' ? `${k}:` : `${k}: ${first}`, ...cont);
  }
  return lines.join('\n');
}

export const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
export const VERSION = /^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~-]*(?:-[A-Za-z0-9.+~]+)?$/;
export const ARCH = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** Suite and component names: path segments apt puts in URLs. */
export const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/** The version as it appears in a pool file name: without its epoch. */
export const fileVersion = (v: string): string => v.replace(/^[0-9]+:/, '');

/** Debian's pool folder of a source: `libf/libfoo` for lib*, else its first letter. */
export const poolPrefix = (source: string): string => (source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1));

/** The values a Release file names its indexes by: the SHA256 section, path → size and digest. */
export interface ReleaseInfo {
  fields: Stanza;
  files: Map<string, { size: number; sha256: string }>;
  /** SHA512 → path, for the files the SHA256 section lists too. */
  sha512: Map<string, string>;
  byHash: boolean;
  validUntil: number | undefined;
  date: number | undefined;
  components: string[];
  architectures: string[];
}

export function parseRelease(text: string): ReleaseInfo {
  const fields = parseStanzas(text)[0] ?? [];
  const files = new Map<string, { size: number; sha256: string }>();
  for (const line of (field(fields, 'SHA256') ?? '').split('\n').slice(1)) {
    const [hex, size, path] = line.trim().split(/\s+/);
    if (hex && /^[0-9a-f]{64}$/.test(hex) && size && /^\d+$/.test(size) && path) files.set(path, { size: Number(size), sha256: hex });
  }
  // apt asks by the strongest hash listed: SHA512 by-hash URLs are answered by the same files.
  const sha512 = new Map<string, string>();
  for (const line of (field(fields, 'SHA512') ?? '').split('\n').slice(1)) {
    const [hex, , path] = line.trim().split(/\s+/);
    if (hex && /^[0-9a-f]{128}$/.test(hex) && path && files.has(path)) sha512.set(hex, path);
  }
  const until = field(fields, 'Valid-Until');
  const ms = until ? Date.parse(until) : NaN;
  const date = Date.parse(field(fields, 'Date') ?? '');
  const words = (f: string): string[] => (field(fields, f) ?? '').split(/\s+/).filter(Boolean);
  return { fields, files, sha512, byHash: (field(fields, 'Acquire-By-Hash') ?? '').toLowerCase() === 'yes', validUntil: Number.isNaN(ms) ? undefined : ms, date: Number.isNaN(date) ? undefined : date, components: words('Components'), architectures: words('Architectures') };
}

/** The signed text of a clear-signed message (InRelease), dash-escaping undone; null when it is not one. */
export function clearSigned(text: string): string | null {
  const t = text.replace(/\r\n/g, '\n');
  const head = '-----BEGIN PGP SIGNED MESSAGE-----\n';
  const start = t.indexOf(head);
  if (start < 0) return null;
  const body = t.indexOf('\n\n', start + head.length);
  const sig = t.indexOf('\n-----BEGIN PGP SIGNATURE-----', body);
  if (body < 0 || sig < 0) return null;
  return t
    .slice(body + 2, sig)
    .split('\n')
    .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
    .join('\n');
}
