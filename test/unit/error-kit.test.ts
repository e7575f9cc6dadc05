import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ociStatus } from '../../src/formats/docker/errors.ts';
import { ociShape } from '../../src/formats/docker/responses.ts';
import { errorAnswer } from '../../src/formats/errors.ts';
import type { ErrorShape } from '../../src/formats/errors.ts';
import { genericShape } from '../../src/formats/generic/http.ts';
import { goShape } from '../../src/formats/go/http.ts';
import { helmShape } from '../../src/formats/helm/http.ts';
import { RegistryError } from '../../src/errors.ts';
import type { RequestInfo } from '../../src/http/runtime.ts';

const logged: string[] = [];
const log = { debug: () => {}, info: () => {}, warn: () => {}, error: (msg: string) => void logged.push(msg) } as unknown as Parameters<typeof errorAnswer>[1]['log'];

// Issue 23 (the kit): one error path for every format. Before it, five status tables, and only
// Docker answered a process out of file handles with 503 (the others: 500 INTERNAL).
describe('the kit\'s error answers', () => {
  const shapes: Array<[string, ErrorShape, ((e: RegistryError) => number) | undefined]> = [
    ['docker', ociShape, ociStatus],
    ['generic', genericShape, undefined],
    ['go', goShape, undefined],
    ['helm', helmShape, undefined],
  ];
  for (const [format, shape, statusOf] of shapes) {
    it(`${format}: out of file handles is 503 with Retry-After, in the format's own body; nothing logged as an error`, async () => {
      logged.length = 0;
      const info: RequestInfo = { client: '' };
      const emfile = Object.assign(new Error('EMFILE: too many open files, open'), { code: 'EMFILE' });
      const res = errorAnswer(emfile, { info, log }, false, shape, statusOf ? { statusOf } : {});
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.match(await res.text(), /out of file handles/);
      assert.deepEqual(logged, []);
      assert.equal(info.error, 'server is out of file handles; try again shortly');
    });
    it(`${format}: an unknown error is 500, logged once; a 413 closes the connection`, () => {
      logged.length = 0;
      const res = errorAnswer(new TypeError('boom'), { info: { client: '' }, log }, true, shape, statusOf ? { statusOf } : {});
      assert.equal(res.status, 500);
      assert.deepEqual(logged, ['unhandled error']);
      const big = errorAnswer(new RegistryError('too_large', 'too big', { code: 'SIZE_INVALID' }), { info: { client: '' }, log }, true, shape, statusOf ? { statusOf } : {});
      assert.equal(big.status, 413);
      assert.equal(big.headers.get('connection'), 'close');
    });
  }
});
