import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { tsFiles } from '../helpers/files.ts';
import { fromBase64, toBase64, toBase64Url } from '../../src/util/base64.ts';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');

/** Code with comments and strings blanked, so a word in prose is not taken for a use. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '').replace(/'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`/g, "''");
}

// Issue 9, item 23: the core runs on Node, Bun and Deno; runtime-only globals belong in adapters/.
describe('the core is runtime-free', () => {
  it('no Buffer, process, Bun, Deno or @hono/node-server anywhere under src/', async () => {
    const found: string[] = [];
    for (const f of await tsFiles(SRC)) {
      const text = await readFile(f, 'utf8');
      if (text.includes('@hono/node-server')) found.push(`${f}: @hono/node-server`);
      const code = codeOnly(text);
      for (const re of [/\bBuffer\b/, /\bprocess\s*\./, /\bBun\s*\./, /\bDeno\s*\./]) {
        const m = re.exec(code);
        if (m) found.push(`${f}: ${m[0]}`);
      }
    }
    assert.deepEqual(found, []);
  });

  it('base64 helpers agree with Node for every length and both alphabets', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
      assert.equal(toBase64(bytes), Buffer.from(bytes).toString('base64'));
      assert.equal(toBase64Url(bytes), Buffer.from(bytes).toString('base64url'));
      assert.deepEqual(fromBase64(Buffer.from(bytes).toString('base64')), bytes);
      assert.deepEqual(fromBase64(Buffer.from(bytes).toString('base64url')), bytes);
    }
    assert.equal(toBase64('user:pässword'), Buffer.from('user:pässword').toString('base64'));
    assert.equal(fromBase64('not base64!'), null);
  });
});
