import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openNote, parseVerifier, verifierKeyProblem } from '../../src/formats/go/sumdb/note.ts';
import { parseRecord, parseTilePath, parseTree, recordHash, tilePath } from '../../src/formats/go/sumdb/tlog.ts';
import type { TileRef } from '../../src/formats/go/sumdb/tlog.ts';
import { TreeVerifier, VerificationError } from '../../src/formats/go/sumdb/verify.ts';
import type { TileSource } from '../../src/formats/go/sumdb/verify.ts';
import { SUM_GOLANG_ORG } from '../../src/formats/go/config.ts';
import { writeSumdb } from '../helpers/sumdb.ts';
import type { TestSumdb } from '../helpers/sumdb.ts';
import { tempDir } from '../helpers/tmp.ts';

const b64 = (b: Uint8Array): string => btoa(String.fromCharCode(...b));
const sha = (...p: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const x of p) h.update(x);
  return new Uint8Array(h.digest());
};

/** RFC 6962's Merkle tree hash, written the slow recursive way the RFC states it. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('checksum database formats (tlog, note)', () => {
  it('hashes a record as the Go reference does', () => {
    // golang.org/x/mod/sumdb/tlog's own example: RecordHash("hello world").
    assert.equal(b64(recordHash(new TextEncoder().encode('hello world'))), 'TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=');
  });

  it('writes and parses tile paths only in their canonical form', () => {
    const cases: Array<[TileRef, string]> = [
      [{ level: 0, index: 1, width: 256 }, 'tile/8/0/001'],
      [{ level: 2, index: 1234067, width: 256 }, 'tile/8/2/x001/x234/067'],
      [{ level: 0, index: 0, width: 5 }, 'tile/8/0/000.p/5'],
      [{ level: -1, index: 7, width: 3 }, 'tile/8/data/007.p/3'],
    ];
    for (const [ref, path] of cases) {
      assert.equal(tilePath(ref), path);
      assert.deepEqual(parseTilePath(path), ref);
    }
    for (const bad of ['tile/8/0/1', 'tile/8/0/0001', 'tile/8/0/x000/001', 'tile/8/0/000.p/256', 'tile/8/0/000.p/0', 'tile/4/0/000', 'tile/8/-1/000', 'tile/8/0/000.p/05', 'tile/8/0/000/']) {
      assert.equal(parseTilePath(bad), null, bad);
    }
  });

  it('parses tree heads and records strictly', () => {
    const tree = parseTree('go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\nJOE\n');
    assert.equal(tree?.n, 123456789012);
    assert.equal(parseTree('go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n'), null);
    const rec = parseRecord(new TextEncoder().encode('123\nhello, world\n\njunk'));
    assert.equal(rec?.id, 123);
    assert.equal(new TextDecoder().decode(rec?.text), 'hello, world\n');
    for (const bad of ['123\nhello world\n', '0x1\nhello\n\n', '1\nhel\x01lo\n\n', '1\n\nhello\n\n']) assert.equal(parseRecord(new TextEncoder().encode(bad)), null, JSON.stringify(bad));
  });

  it('checks verifier keys, the public database\'s included', async () => {
    assert.equal(verifierKeyProblem(SUM_GOLANG_ORG), null);
    assert.match(String(verifierKeyProblem(SUM_GOLANG_ORG.replace('033de0ae', '033de0af'))), /hash does not match/);
    assert.match(String(verifierKeyProblem('sum.golang.org+033de0ae')), /must be/);
  });
});

describe('tree verification against a database built from the formats', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let db: TestSumdb;
  let leaves: Uint8Array[];
  before(async () => {
    dir = await tempDir('sumdb-unit-');
    db = await writeSumdb(dir.path, 'sum.test.example', [], 700);
    const data: Uint8Array[] = [];
    for (const t of ['tile/8/data/000', 'tile/8/data/001', 'tile/8/data/002.p/188']) data.push(await readFile(join(dir.path, t)));
    leaves = [];
    for (const d of data) for (let at = 0, r = parseRecord(d, 0); r; at = r.end, r = at < d.byteLength ? parseRecord(d, at) : null) leaves.push(recordHash(r.text));
  });
  after(() => dir?.cleanup());

  const source = (fetched: string[]): TileSource => ({
    stored: async () => null,
    fetch: async (ref) => {
      fetched.push(tilePath(ref));
      return new Uint8Array(await readFile(join(dir.path, tilePath(ref))));
    },
    keep: async () => {},
  });

  async function signedTree(): Promise<{ n: number; hash: Uint8Array }> {
    const note = await readFile(join(dir.path, 'latest'));
    const text = await openNote(new Uint8Array(note), await parseVerifier(db.key));
    assert.ok(text, 'the note verifies with its key');
    return parseTree(text) as { n: number; hash: Uint8Array };
  }

  it('proves every record and every prefix tree from the tiles', async () => {
    assert.equal(leaves.length, 700);
    const tree = await signedTree();
    assert.deepEqual(tree.hash, mth(leaves));
    const fetched: string[] = [];
    const v = new TreeVerifier(tree, source(fetched));
    for (let i = 0; i < leaves.length; i++) assert.deepEqual(await v.hash(0, i), leaves[i], `record ${i}`);
    for (const m of [1, 2, 3, 255, 256, 257, 511, 512, 513, 699, 700]) assert.deepEqual(await v.rootOf(m), mth(leaves.slice(0, m)), `tree of ${m}`);
    assert.deepEqual(fetched.sort(), ['tile/8/0/000', 'tile/8/0/001', 'tile/8/0/002.p/188', 'tile/8/1/000.p/2'], 'each tile fetched once');
  });

  it('refuses a tampered tile, a wrong root and a note signed by another key', async () => {
    const tree = await signedTree();
    for (const t of ['tile/8/0/000', 'tile/8/0/002.p/188', 'tile/8/1/000.p/2']) {
      const file = join(dir.path, t);
      const good = await readFile(file);
      const bad = new Uint8Array(good);
      bad[40] = (bad[40] as number) ^ 1;
      await writeFile(file, bad);
      try {
        await assert.rejects(new TreeVerifier(tree, source([])).hash(0, 5), VerificationError, t);
      } finally {
        await writeFile(file, good);
      }
    }
    await assert.rejects(new TreeVerifier({ n: tree.n, hash: sha(new Uint8Array(1)) }, source([])).edge(), VerificationError);
    await assert.rejects(new TreeVerifier({ n: 699, hash: tree.hash }, source([])).edge(), /./);
    const other = await writeSumdb(join(dir.path, 'other'), 'sum.test.example', [], 3);
    // A longer log that extends this one proves it; one that rewrote a record is a fork.
    const sourceIn = (root: string): TileSource => ({ stored: async () => null, fetch: async (ref) => new Uint8Array(await readFile(join(root, tilePath(ref)))), keep: async () => {} });
    const treeIn = async (root: string, key: string) => parseTree((await openNote(new Uint8Array(await readFile(join(root, 'latest'))), await parseVerifier(key))) ?? '') as { n: number; hash: Uint8Array };
    const longer = await writeSumdb(join(dir.path, 'longer'), 'sum.test.example', [], 900);
    await new TreeVerifier(await treeIn(join(dir.path, 'longer'), longer.key), sourceIn(join(dir.path, 'longer'))).checkPrefix(tree);
    const mod = { path: 'example.com/forked', version: 'v1.0.0', files: { 'go.mod': 'module example.com/forked\n' } };
    const fork = await writeSumdb(join(dir.path, 'fork'), 'sum.test.example', [mod], 899);
    assert.equal(fork.ids.get('example.com/forked@v1.0.0'), 3, 'the fork rewrote record 3');
    await assert.rejects(new TreeVerifier(await treeIn(join(dir.path, 'fork'), fork.key), sourceIn(join(dir.path, 'fork'))).checkPrefix(tree), /not a prefix/);
    const note = await readFile(join(dir.path, 'latest'));
    assert.equal(await openNote(new Uint8Array(note), await parseVerifier(other.key)), null);
    const forged = new TextEncoder().encode(new TextDecoder().decode(note).replace(/\n700\n/, '\n701\n'));
    assert.equal(await openNote(forged, await parseVerifier(db.key)), null);
  });
});
