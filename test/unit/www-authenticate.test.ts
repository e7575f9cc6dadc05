import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWwwAuthenticate } from '../../src/upstream/www-authenticate.ts';

describe('WWW-Authenticate parsing', () => {
  it('parses the Docker Hub Bearer challenge', () => {
    assert.deepEqual(
      parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'),
      [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' } }],
    );
  });
  it('handles commas inside quotes, escapes, spaces and case', () => {
    assert.deepEqual(parseWwwAuthenticate('bearer Realm = "a,b" , scope="repository:x:pull,push", error="x\\"y"'), [
      { scheme: 'bearer', params: { realm: 'a,b', scope: 'repository:x:pull,push', error: 'x"y' } },
    ]);
  });
  it('parses several challenges in one header', () => {
    const c = parseWwwAuthenticate('Basic realm="Registry Realm", Bearer realm="https://t/token",service=s');
    assert.deepEqual(c, [
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', service: 's' } },
    ]);
  });
  it('survives garbage', () => {
    for (const h of ['', ',,,', '"', 'Bearer realm="unterminated', 'Bearer ===', '\u0000\u0001', 'Bearer realm=']) {
      assert.ok(Array.isArray(parseWwwAuthenticate(h)));
    }
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  });
});
