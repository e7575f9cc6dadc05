import { crc32 } from 'node:zlib';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeCase } from '../../src/formats/go/module.ts';

/** One module version of a test GOPROXY tree: its files, go.mod included. */
export interface ModuleVersion {
  path: string;
  version: string;
  files: Record<string, string>;
}

/** A zip with stored (uncompressed) entries, as the module zip format allows. */
export function zipStored(entries: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const crc = crc32(e.data) >>> 0;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, e.data.byteLength, true);
    local.setUint32(22, e.data.byteLength, true);
    local.setUint16(26, name.byteLength, true);
    parts.push(new Uint8Array(local.buffer), name, e.data);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, e.data.byteLength, true);
    c.setUint32(24, e.data.byteLength, true);
    c.setUint16(28, name.byteLength, true);
    c.setUint32(42, offset, true);
    central.push(new Uint8Array(c.buffer), name);
    offset += 30 + name.byteLength + e.data.byteLength;
  }
  const centralSize = central.reduce((a, b) => a + b.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((a, b) => a + b.byteLength, 0));
  let at = 0;
  for (const p of all) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Writes a GOPROXY file tree (`<escaped path>/@v/{list,<v>.info,<v>.mod,<v>.zip}`, `@latest`) under root. */
export async function writeProxyTree(root: string, mods: ModuleVersion[]): Promise<void> {
  for (const m of mods) {
    const dir = join(root, escapeCase(m.path), '@v');
    await mkdir(dir, { recursive: true });
    const v = escapeCase(m.version);
    const enc = new TextEncoder();
    await writeFile(join(dir, `${v}.info`), JSON.stringify({ Version: m.version, Time: '2026-01-01T00:00:00Z' }));
    await writeFile(join(dir, `${v}.mod`), m.files['go.mod'] ?? `module ${m.path}\n`);
    await writeFile(join(dir, `${v}.zip`), zipStored(Object.entries(m.files).map(([name, data]) => ({ name: `${m.path}@${m.version}/${name}`, data: enc.encode(data) }))));
    const list = await readFile(join(dir, 'list'), 'utf8').catch(() => '');
    await writeFile(join(dir, 'list'), `${list}${m.version}\n`);
    await writeFile(join(root, escapeCase(m.path), '@latest'), JSON.stringify({ Version: m.version, Time: '2026-01-01T00:00:00Z' }));
  }
}
