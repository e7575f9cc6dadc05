import { concat, utf8OrNull } from '../../util/bytes.ts';
import { ARCH, PACKAGE_NAME, VERSION, badPackage, field, parseStanzas } from './control.ts';
import type { Stanza } from './control.ts';
import { XzError, unxz } from './xz.ts';
import { ZstdError, unzstd } from './zstd.ts';

/** What a .deb says about itself: its control stanza and the three fields an index is keyed by. */
export interface DebControl {
  stanza: Stanza;
  name: string;
  version: string;
  arch: string;
  source: string;
}

export interface DebLimits {
  /** The control member (control.tar.*) as stored in the .deb. */
  maxControlBytes: number;
  /** The control file itself. */
  maxControlFileBytes: number;
}

const AR_MAGIC = '!<arch>\n';
const ascii = (b: Uint8Array, from: number, to: number): string => String.fromCharCode(...b.subarray(from, to));

/**
 * Reads a .deb (an ar archive: debian-binary, control.tar.{gz,xz,zst}, data.tar.*) as it arrives
 * and keeps only the control member, bounded; the data member is counted, never held, so a package
 * of any size is read in constant memory. `finish` checks the archive ended where its members said.
 */
export class DebInspector {
  private head = new Uint8Array(0);
  private total = 0;
  /** Where the data member ends (known once its header is read). */
  private end: number | undefined;
  private control: { name: string; bytes: Uint8Array } | undefined;

  constructor(private readonly limits: DebLimits) {}

  write(chunk: Uint8Array): void {
    this.total += chunk.byteLength;
    if (this.end !== undefined) return;
    const next = new Uint8Array(this.head.byteLength + chunk.byteLength);
    next.set(this.head);
    next.set(chunk, this.head.byteLength);
    this.head = next;
    this.scan();
  }

  private scan(): void {
    const b = this.head;
    if (b.byteLength >= 8 && ascii(b, 0, 8) !== AR_MAGIC) throw badPackage('the file is not a Debian package (not an ar archive)');
    let at = 8;
    for (let i = 0; i < 3; i++) {
      if (b.byteLength < at + 60) return;
      if (b[at + 58] !== 0x60 || b[at + 59] !== 0x0a) throw badPackage('the .deb has a damaged ar member header');
      const name = ascii(b, at, at + 16).trim().replace(/\/$/, '');
      const sizeText = ascii(b, at + 48, at + 58).trim();
      if (!/^\d{1,12}$/.test(sizeText)) throw badPackage('the .deb has a damaged ar member size');
      const size = Number(sizeText);
      const body = at + 60;
      if (i === 0 && name !== 'debian-binary') throw badPackage('the .deb does not start with debian-binary');
      // Everything before the data member is held: its first member is a few bytes ("2.0\n").
      if (i === 0 && size > 64) throw badPackage('the .deb has a damaged debian-binary member');
      if (i === 1) {
        if (!/^control\.tar(\.gz|\.xz|\.zst)?$/.test(name)) throw badPackage(`the .deb's second member is ${name.slice(0, 40)}, not control.tar`);
        if (size > this.limits.maxControlBytes) throw badPackage(`the .deb's ${name} is larger than ${this.limits.maxControlBytes} bytes`);
      }
      if (i === 2) {
        if (!/^data\.tar(\.[a-z0-9]+)?$/.test(name)) throw badPackage(`the .deb's third member is ${name.slice(0, 40)}, not data.tar`);
        this.end = body + size;
        this.head = new Uint8Array(0);
        return;
      }
      if (b.byteLength < body + size) return;
      if (i === 0 && !ascii(b, body, body + size).startsWith('2.')) throw badPackage('the .deb is not format 2.x (debian-binary)');
      if (i === 1) this.control = { name, bytes: b.slice(body, body + size) };
      at = body + size + (size % 2);
    }
  }

  async finish(): Promise<DebControl> {
    if (this.end === undefined || !this.control) throw badPackage('the file is not a complete Debian package (no control and data members)');
    if (this.total !== this.end && this.total !== this.end + 1) throw badPackage(`the .deb is ${this.total} bytes, its members say ${this.end}`);
    const tar = await this.unpack(this.control);
    const text = controlFile(tar, this.limits.maxControlFileBytes);
    return checkControl(text);
  }

  private async unpack(c: { name: string; bytes: Uint8Array }): Promise<Uint8Array> {
    const max = this.limits.maxControlBytes * 64;
    if (c.name.endsWith('.zst')) {
      try {
        return unzstd(c.bytes, max);
      } catch (e) {
        if (e instanceof ZstdError) throw badPackage(`the .deb's control.tar.zst does not decompress: ${e.message}`);
        throw e;
      }
    }
    if (c.name.endsWith('.xz')) {
      try {
        return unxz(c.bytes, max);
      } catch (e) {
        if (e instanceof XzError) throw badPackage(`the .deb's control.tar.xz does not decompress: ${e.message}`);
        throw e;
      }
    }
    if (!c.name.endsWith('.gz')) return c.bytes;
    try {
      const parts: Uint8Array[] = [];
      let n = 0;
      const reader = new Blob([c.bytes]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        n += value.byteLength;
        if (n > max) {
          await reader.cancel();
          throw badPackage(`the .deb's control.tar.gz unpacks to more than ${max} bytes`);
        }
        parts.push(value);
      }
      return concat(parts, n);
    } catch (e) {
      if (e instanceof Error && 'kind' in e) throw e;
      throw badPackage("the .deb's control.tar.gz does not decompress");
    }
  }
}

/** The `control` file of a control tarball (ustar or GNU headers; names `./control` or `control`). */
function controlFile(tar: Uint8Array, max: number): string {
  let at = 0;
  while (at + 512 <= tar.byteLength) {
    if (tar[at] === 0) break;
    const name = ascii(tar, at, at + 100).replace(/\0.*$/s, '');
    const size = parseInt(ascii(tar, at + 124, at + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw badPackage("the .deb's control.tar has a damaged header");
    const type = String.fromCharCode(tar[at + 156] ?? 0);
    if ((name === './control' || name === 'control') && (type === '0' || type === '\0')) {
      if (size > max) throw badPackage(`the .deb's control file is larger than ${max} bytes`);
      if (at + 512 + size > tar.byteLength) throw badPackage("the .deb's control.tar is truncated");
      const text = utf8OrNull(tar.subarray(at + 512, at + 512 + size));
      if (text === null) throw badPackage("the .deb's control file is not UTF-8");
      return text;
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw badPackage("the .deb's control.tar has no control file");
}

/** Fields apt takes from the index, never from the package: they would misstate where and what the file is. */
const INDEX_FIELDS = new Set(['filename', 'size', 'md5sum', 'sha1', 'sha256', 'sha512', 'description-md5']);

/** The control stanza checked: one stanza, the fields an index needs, names and versions apt accepts. */
export function checkControl(text: string): DebControl {
  const stanzas = parseStanzas(text, true);
  if (stanzas.length !== 1) throw badPackage(`the control file holds ${stanzas.length} stanzas; it must hold one`);
  const stanza = (stanzas[0] ?? []).filter(([k]) => !INDEX_FIELDS.has(k.toLowerCase()));
  const one = (f: string, re: RegExp): string => {
    const v = field(stanza, f);
    if (v === undefined || v === '') throw badPackage(`the control file has no ${f} field`);
    if (!re.test(v)) throw badPackage(`the control file's ${f} "${v.slice(0, 80)}" is not valid`);
    return v;
  };
  const name = one('Package', PACKAGE_NAME);
  const version = one('Version', VERSION);
  const arch = one('Architecture', ARCH);
  const src = (field(stanza, 'Source') ?? name).split(/\s+/)[0] ?? name;
  if (!PACKAGE_NAME.test(src)) throw badPackage(`the control file's Source "${src.slice(0, 80)}" is not a package name`);
  const seen = new Set<string>();
  for (const [k] of stanza) {
    if (seen.has(k.toLowerCase())) throw badPackage(`the control file has ${k} twice`);
    seen.add(k.toLowerCase());
  }
  return { stanza, name, version, arch, source: src };
}
