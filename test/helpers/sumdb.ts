import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { escapeCase } from '../../src/formats/go/module.ts';
import type { ModuleVersion } from './gomod.ts';

/**
 * A Go checksum database as static files, built the way golang.org/x/mod/sumdb does (written here
 * from its documented formats, not with its code): records of go.sum lines, a tlog of RFC 6962
 * hashes in tiles of height 8, a tree head signed as a note with an Ed25519 key generated per test,
 * and `lookup/<module>@<version>` answers. nginx serves the folder as the database.
 */

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const b64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));
const enc = new TextEncoder();

/** dirhash.Hash1: SHA-256 over the lines `<sha256 hex of file>  <name>\n`, files sorted by name. */
export function hash1(files: Array<{ name: string; data: Uint8Array }>): string {
  const lines = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${createHash('sha256').update(f.data).digest('hex')}  ${f.name}\n`)
    .join('');
  return `h1:${b64(sha256(enc.encode(lines)))}`;
}

/** The go.sum lines (a checksum database record) of a module version as writeProxyTree publishes it. */
export function goSumLines(m: ModuleVersion): string {
  const zip = hash1(Object.entries(m.files).map(([name, data]) => ({ name: `${m.path}@${m.version}/${name}`, data: enc.encode(data) })));
  const mod = hash1([{ name: 'go.mod', data: enc.encode(m.files['go.mod'] ?? `module ${m.path}\n`) }]);
  return `${m.path} ${m.version} ${zip}\n${m.path} ${m.version}/go.mod ${mod}\n`;
}

export interface TestSumdb {
  name: string;
  /** The verifier key, as GOSUMDB takes it. */
  key: string;
  /** Record id of each module version (`path@version`). */
  ids: Map<string, number>;
  size: number;
}

function tileName(level: number | 'data', index: number, width: number): string {
  let k = String(index);
  k = '0'.repeat((3 - (k.length % 3)) % 3) + k;
  const groups = k.match(/\d{3}/g) ?? [];
  return `tile/8/${level}/${groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/')}${width < 256 ? `.p/${width}` : ''}`;
}

/**
 * Writes a database of `fillers` made-up records with the given modules' records spread among them
 * (so the tree spans full tiles, partial tiles and more than one level).
 */
export async function writeSumdb(root: string, name: string, mods: ModuleVersion[], fillers = 600): Promise<TestSumdb> {
  const texts: string[] = [];
  const ids = new Map<string, number>();
  const every = Math.max(1, Math.floor(fillers / (mods.length + 1)));
  let next = 0;
  for (let i = 0; i < fillers || next < mods.length; i++) {
    const m = i % every === 3 ? mods[next] : undefined;
    if (m) {
      ids.set(`${m.path}@${m.version}`, texts.length);
      texts.push(goSumLines(m));
      next++;
    } else {
      const h = b64(sha256(enc.encode(`filler ${i}`)));
      texts.push(`example.org/filler/m${i} v1.0.0 h1:${h}\nexample.org/filler/m${i} v1.0.0/go.mod h1:${h}\n`);
    }
  }
  const levels: Uint8Array[][] = [texts.map((t) => sha256(Uint8Array.of(0), enc.encode(t)))];
  for (let l = 0; (levels[l]?.length ?? 0) > 1; l++) {
    const row = levels[l] as Uint8Array[];
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < row.length; i += 2) up.push(sha256(Uint8Array.of(1), row[i] as Uint8Array, row[i + 1] as Uint8Array));
    levels.push(up);
  }
  const put = async (rel: string, data: Uint8Array | string): Promise<void> => {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), data);
  };
  for (let tl = 0; (levels[tl * 8]?.length ?? 0) > 0; tl++) {
    const row = levels[tl * 8] as Uint8Array[];
    for (let k = 0; k * 256 < row.length; k++) {
      const part = row.slice(k * 256, k * 256 + 256);
      const data = new Uint8Array(part.length * 32);
      part.forEach((h, i) => data.set(h, i * 32));
      await put(tileName(tl, k, part.length), data);
      if (tl === 0) await put(tileName('data', k, part.length), texts.slice(k * 256, k * 256 + part.length).map((t, i) => `${k * 256 + i}\n${t}\n`).join(''));
    }
  }
  // The root: complete subtrees of the size's binary digits, largest first, folded from the right.
  const n = texts.length;
  const subtrees: Uint8Array[] = [];
  for (let b = 31; b >= 0; b--) {
    const above = Math.floor(n / 2 ** b);
    if (above % 2 === 1) subtrees.push((levels[b] as Uint8Array[])[above - 1] as Uint8Array);
  }
  let top = subtrees[subtrees.length - 1] as Uint8Array;
  for (let i = subtrees.length - 2; i >= 0; i--) top = sha256(Uint8Array.of(1), subtrees[i] as Uint8Array, top);

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // An SPKI-encoded Ed25519 key ends with the 32 raw key bytes.
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })).slice(-32);
  const encoded = Uint8Array.from([1, ...pub]);
  const keyHash = sha256(enc.encode(`${name}\n`), encoded).slice(0, 4);
  const key = `${name}+${[...keyHash].map((x) => x.toString(16).padStart(2, '0')).join('')}+${b64(encoded)}`;
  const text = `go.sum database tree\n${n}\n${b64(top)}\n`;
  const sig = new Uint8Array(sign(null, enc.encode(text), privateKey));
  const note = `${text}\n\u2014 ${name} ${b64(Uint8Array.from([...keyHash, ...sig]))}\n`;
  await put('latest', note);
  for (const [modVer, id] of ids) {
    const at = modVer.lastIndexOf('@');
    await put(`lookup/${escapeCase(modVer.slice(0, at))}@${escapeCase(modVer.slice(at + 1))}`, `${id}\n${texts[id]}\n${note}`);
  }
  return { name, key, ids, size: n };
}
