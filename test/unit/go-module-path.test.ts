import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkModulePath, checkVersionForPath, parseGoPath, splitPathVersion } from '../../src/formats/go/module.ts';

// Issue 24 A: the path/version rules of the go command (x/mod's module.Check: CheckPath,
// SplitPathVersion, CheckPathMajor), as a table of real module paths. Each row says what the go
// command does with it; before the fix every gopkg.in .vN row with N >= 2 was refused.
const accepted: Array<[string, string]> = [
  ['gopkg.in/yaml.v2', 'v2.4.0'],
  ['gopkg.in/yaml.v3', 'v3.0.1'],
  ['gopkg.in/go-jose/go-jose.v2', 'v2.6.3'],
  ['gopkg.in/natefinch/lumberjack.v2', 'v2.2.1'],
  ['gopkg.in/evanphx/json-patch.v4', 'v4.12.0'],
  ['gopkg.in/inf.v0', 'v0.9.1'],
  ['gopkg.in/check.v1', 'v1.0.0-20201130134442-10cb98267c6c'],
  ['gopkg.in/check.v1', 'v0.0.0-20161208181325-20d25e280405'], // required by yaml.v2's own go.mod
  ['gopkg.in/mgo.v2-unstable', 'v2.0.0-20160818020120-3f83fa500528'],
  ['gopkg.in/square/go-jose.v2', 'v2.6.0'],
  ['github.com/docker/docker', 'v28.3.3+incompatible'],
  ['github.com/docker/docker', 'v1.13.1'],
  ['github.com/evanphx/json-patch', 'v5.9.11+incompatible'],
  ['go.etcd.io/etcd/client/v3', 'v3.5.21'],
  ['go.etcd.io/etcd/client/pkg/v3', 'v3.5.21'],
  ['go.etcd.io/etcd/api/v3', 'v3.6.0-rc.5'],
  ['go.etcd.io/bbolt', 'v1.4.3'],
  ['github.com/BurntSushi/toml', 'v1.5.0'],
  ['github.com/Masterminds/semver/v3', 'v3.4.0'],
  ['github.com/Azure/go-ansiterm', 'v0.0.0-20250102033503-faa5f7b0171c'],
  ['sigs.k8s.io/structured-merge-diff/v6', 'v6.3.0'],
  ['k8s.io/api', 'v0.34.0'],
  ['github.com/golang-jwt/jwt/v5', 'v5.3.0'],
  ['github.com/foo/bar/v2/sub', 'v1.0.0'], // /v2 in the middle is just a directory
];

const refusedVersion: Array<[string, string]> = [
  ['gopkg.in/yaml.v2', 'v3.0.1'],
  ['gopkg.in/yaml.v3', 'v2.4.0'],
  ['gopkg.in/yaml.v2', 'v0.0.0-20161208181325-20d25e280405'], // the pseudo-version exception is for .v1 only
  ['k8s.io/api', 'v2.0.0'],
  ['go.etcd.io/etcd/client/v3', 'v2.305.21'],
  ['github.com/golang-jwt/jwt/v5', 'v4.5.0'],
  ['github.com/x/y', 'v1.0.0+incompatible'], // +incompatible needs major >= 2
  ['github.com/x/y/v2', 'v2.0.0+incompatible'], // and no suffix in the path
  ['github.com/foo/bar/v2/sub', 'v2.0.0'],
];

const refusedPath = ['gopkg.in/yaml', 'gopkg.in/yaml.v02', 'gopkg.in/.v2', 'github.com/x/y/v1', 'github.com/x/y/v0', 'github.com/x/y/v02', 'github.com/x/y/v2.1', 'Example.com/x', 'nodot/x'];

describe('Go module path and version rules (the go command\'s own)', () => {
  for (const [path, version] of accepted) {
    it(`accepts ${path}@${version}`, () => {
      checkModulePath(path);
      checkVersionForPath(path, version);
      const route = parseGoPath(`/${path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)}/@v/${version}.info`);
      assert.deepEqual(route, { kind: 'file', module: path, version, ext: 'info' });
    });
  }
  for (const [path, version] of refusedVersion) {
    it(`refuses ${path}@${version}`, () => {
      checkModulePath(path);
      assert.throws(() => checkVersionForPath(path, version), /invalid version/);
    });
  }
  for (const path of refusedPath) {
    it(`refuses the module path ${path}`, () => assert.throws(() => checkModulePath(path), /malformed module path/));
  }
  it('splits the major suffix as SplitPathVersion does', () => {
    assert.deepEqual(splitPathVersion('gopkg.in/yaml.v3'), { prefix: 'gopkg.in/yaml', pathMajor: '.v3' });
    assert.deepEqual(splitPathVersion('gopkg.in/mgo.v2-unstable'), { prefix: 'gopkg.in/mgo', pathMajor: '.v2-unstable' });
    assert.deepEqual(splitPathVersion('go.etcd.io/etcd/client/v3'), { prefix: 'go.etcd.io/etcd/client', pathMajor: '/v3' });
    assert.deepEqual(splitPathVersion('github.com/docker/docker'), { prefix: 'github.com/docker/docker', pathMajor: '' });
    assert.equal(splitPathVersion('github.com/x/y/v1'), null);
  });
});
