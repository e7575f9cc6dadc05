import { readdir, readFile, lstat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { checkModulePath, checkVersion, escapeCase } from '../../src/formats/go/module.ts';

/** Folders a module zip never contains: version control, and nested modules (a folder with its own go.mod). */
const VCS = new Set(['.git', '.hg', '.svn', '.bzr']);

/**
 * The files of a module from a source tree, by the module zip rules (golang.org/x/mod/zip
 * CreateFromDir): regular files only, no VCS folders, no `vendor/` folders, no nested modules.
 */
export async function moduleFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (VCS.has(e.name) || e.name === 'vendor') continue;
        // A sub-folder with its own go.mod is a nested module, zipped on its own.
        if ((await readdir(path).catch(() => [] as string[])).includes('go.mod')) continue;
        await walk(path);
      } else if (e.isFile() && (await lstat(path)).isFile()) {
        out.push(relative(root, path).split(sep).join('/'));
      }
    }
  };
  await walk(root);
  return out.sort();
}

/** A module zip (deflated entries under `<module>@<version>/`), built in memory: modules are small. */
export async function createModuleZip(root: string, module: string, version: string): Promise<Uint8Array> {
  checkModulePath(module);
  checkVersion(version);
  const entries = [];
  for (const f of await moduleFiles(root)) entries.push({ name: `${module}@${version}/${f}`, data: new Uint8Array(await readFile(join(root, f))) });
  return zipEntries(entries, true);
}

/** A zip of these entries (UTF-8 names), deflated or stored as they are. */
export function zipEntries(entries: Array<{ name: string; data: Uint8Array }>, deflate: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const packed = deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const name = new TextEncoder().encode(e.name);
    const crc = crc32(e.data) >>> 0;
    const method = deflate ? 8 : 0;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true); // names are UTF-8
    local.setUint16(8, method, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, packed.byteLength, true);
    local.setUint32(22, e.data.byteLength, true);
    local.setUint16(26, name.byteLength, true);
    parts.push(new Uint8Array(local.buffer), name, packed);
    const c = new DataView(new ArrayBuffer(46));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 20, true);
    c.setUint16(6, 20, true);
    c.setUint16(8, 0x0800, true);
    c.setUint16(10, method, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, packed.byteLength, true);
    c.setUint32(24, e.data.byteLength, true);
    c.setUint16(28, name.byteLength, true);
    c.setUint32(42, offset, true);
    central.push(new Uint8Array(c.buffer), name);
    offset += 30 + name.byteLength + packed.byteLength;
  }
  const size = central.reduce((a, b) => a + b.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Uint8Array(Buffer.concat([...parts, ...central, new Uint8Array(end.buffer)]));
}

/** `PUT <to>/<escaped module>/@v/<escaped version>.zip`; the server checks the zip again. */
export async function publishModule(to: string, module: string, version: string, zip: Uint8Array, auth: { user: string; password: string } | undefined): Promise<Response> {
  const url = `${to.replace(/\/$/, '')}/${escapeCase(module)}/@v/${escapeCase(version)}.zip`;
  const headers: Record<string, string> = { 'content-type': 'application/zip' };
  if (auth) headers['authorization'] = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  return fetch(url, { method: 'PUT', body: zip, headers });
}
