import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../src/app.ts';
import { isValidName, parseDockerPath, parseReference } from '../../src/formats/docker/reference.ts';
import { parseRange } from '../../src/http/range.ts';
import { parseDigest } from '../../src/storage/digest.ts';
import { parseWwwAuthenticate } from '../../src/upstream/www-authenticate.ts';
import { authConfig } from '../helpers/auth.ts';
import { startServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';
import type { TestServer } from '../helpers/server.ts';

/** mulberry32: a tiny seeded generator, so a failure names the seed that reproduces it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261127);
const PIECES = ['/', 'v2', 'repo', 'local', 'hub', 'app', 'a', '..', '.', '%2e', '%2f', '%00', '\\', ':', '@', 'sha256:', 'sha512:', 'a'.repeat(64), 'f'.repeat(64),
  'manifests', 'blobs', 'uploads', 'tags', 'list', 'referrers', '_catalog', '_tags', '_manifests', '?', '&', '=', 'n=', 'last=', 'digest=', 'mount=', 'from=', '-', '_', '__', 'A', '0', '%', '#', ' ', '~', '*', 'token'];

function fuzzString(r: () => number, max: number): string {
  let s = '';
  const n = Math.floor(r() * max);
  for (let i = 0; i < n; i++) s += r() < 0.8 ? (PIECES[Math.floor(r() * PIECES.length)] ?? '') : String.fromCharCode(Math.floor(r() * 128));
  return s;
}

describe(`fuzz (seed ${SEED}, FUZZ_SEED to change)`, () => {
  it('parsers never throw on arbitrary input', () => {
    const r = rng(SEED);
    for (let i = 0; i < 20_000; i++) {
      const s = fuzzString(r, 30);
      const route = parseDockerPath(s);
      // What a valid name can never contain, whatever the grammar's details: the store keys on it.
      if ('name' in route && isValidName(route.name)) {
        const n = route.name;
        assert.ok(n.length > 0 && n.length <= 255 && !/\.\.|\/\/|%|\\|^\/|\/$|[A-Z\s\0]/.test(n) && !n.split('/').some((c) => c.startsWith('_') || c.startsWith('.')), `valid name ${JSON.stringify(n)}`);
      }
      parseReference(s);
      parseDigest(s);
      const range = parseRange(s, Math.floor(r() * 1e6));
      if (range.kind === 'ok') assert.ok(range.start >= 0 && range.end >= range.start, `range ${s}`);
      parseWwwAuthenticate(s);
      parseWwwAuthenticate(`Bearer ${s}`);
    }
  });

  describe('the HTTP surface never answers 500 and never writes outside the store', () => {
    let srv: TestServer;
    let before_: string[];
    let parent: { path: string; cleanup: () => Promise<void> };
    before(async () => {
      // The store in a folder of its own: anything written beside it can only come from this server.
      parent = await tempDir('fuzz-');
      await mkdir(join(parent.path, 'store'));
      srv = await startServer({
        dataDir: join(parent.path, 'store'),
        config: {
          defaultRepo: 'local',
          auth: await authConfig(),
          repos: [
            { name: 'local', format: 'docker', type: 'local', permissions: { read: ['anonymous'], write: ['authenticated'], delete: ['authenticated'] } },
            { name: 'hub', format: 'docker', type: 'remote', upstream: { url: 'http://127.0.0.1:9' }, permissions: { read: ['anonymous'] } },
          ],
        },
      });
      before_ = await readdir(dirname(srv.dataDir));
    });
    after(() => closeAll(() => srv?.close(), () => parent?.cleanup()));

    it('3000 random requests', async () => {
      const app = createApp(srv.server);
      const r = rng(SEED + 1);
      const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];
      const auth = ['', 'Basic d3JpdGVyOndyaXRlci1zZWNyZXQtMQ==', 'Bearer x.y.z', 'Basic !!!', 'Digest foo'];
      for (let i = 0; i < 3000; i++) {
        // Raw backslashes and a leading '//' are dealt with by the URL parser before us; the rest is ours.
        const path = `/${fuzzString(r, 12).replace(/\\/g, '%5C').replace(/^\/+/, '')}`.replace(/#/g, '%23');
        const method = methods[Math.floor(r() * methods.length)] ?? 'GET';
        const headers: Record<string, string> = {};
        const a = auth[Math.floor(r() * auth.length)] ?? '';
        if (a) headers['authorization'] = a;
        if (r() < 0.3) headers['range'] = fuzzString(r, 4).replace(/[^\x20-\x7e]/g, '');
        if (r() < 0.3) headers['content-type'] = fuzzString(r, 3).replace(/[^\x20-\x7e]/g, '');
        if (r() < 0.2) headers['content-range'] = fuzzString(r, 3).replace(/[^\x20-\x7e]/g, '');
        let url: string;
        try {
          url = new URL(path, 'http://127.0.0.1').toString();
        } catch {
          continue;
        }
        const body = method === 'GET' || method === 'HEAD' || r() < 0.5 ? undefined : fuzzString(r, 8);
        const res = await app.request(url, { method, headers, ...(body !== undefined ? { body } : {}) });
        if (res.status >= 500 && res.status !== 502 && res.status !== 503) {
          assert.fail(`seed ${SEED}: ${method} ${path} ${JSON.stringify(headers)} → ${res.status} ${await res.text()}`);
        }
        await res.body?.cancel();
      }
      assert.deepEqual(await readdir(dirname(srv.dataDir)), before_);
    });
  });
});
