import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const hex = (alg: string, b: string): string => createHash(alg).update(b).digest('hex');

// Issue 27 review: metadata checksums are remembered per content; they must follow every change of the document.
describe('Maven metadata checksums', () => {
  let br: TestServer;
  before(async () => {
    br = await startServer({ config: { repos: [{ name: 'm2', format: 'maven', type: 'local' }, { name: 'v', format: 'maven', type: 'virtual', members: ['m2'] }] } });
  });
  after(() => br?.close());

  it('X-Checksum headers and the .sha1 / .md5 / .sha256 siblings match the metadata bytes served, before and after a new version lands', async () => {
    for (const version of ['1.0', '1.1']) {
      assert.equal((await fetch(`${br.url}/repo/m2/org/s/lib/${version}/lib-${version}.pom`, { method: 'PUT', body: '<project/>' })).status, 201);
      for (const repo of ['m2', 'v']) {
        const url = `${br.url}/repo/${repo}/org/s/lib/maven-metadata.xml`;
        const res = await fetch(url);
        const body = await res.text();
        assert.ok(body.includes(`<version>${version}</version>`), body);
        assert.equal(res.headers.get('x-checksum-sha1'), hex('sha1', body));
        assert.equal(res.headers.get('x-checksum-md5'), hex('md5', body));
        assert.equal(res.headers.get('x-checksum-sha256'), hex('sha256', body));
        for (const alg of ['sha1', 'md5', 'sha256', 'sha512']) assert.equal(await (await fetch(`${url}.${alg}`)).text(), hex(alg, body), `${repo} ${alg}`);
      }
    }
  });
});
