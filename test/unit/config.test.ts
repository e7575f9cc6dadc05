import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULT_CONFIG, parseConfigText, validateConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { DockerRemoteConfig } from '../../src/formats/docker/config.ts';

const repo = (extra: Record<string, unknown> = {}) => ({ name: 'hub', format: 'docker', type: 'remote', upstream: { url: 'http://127.0.0.1:5000' }, ...extra });

function problems(raw: unknown, env: Record<string, string> = {}): string[] {
  try {
    validateConfig(raw, env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

/** The i-th repo, which the test knows is a remote one. */
function remoteAt(c: Config, i: number): DockerRemoteConfig {
  const r = c.repos[i];
  assert.ok(r?.type === 'remote' && r.format === 'docker');
  return r;
}

describe('configuration', () => {
  it('the embedded default serves Docker Hub on 8081 from ./data', () => {
    const c = validateConfig(DEFAULT_CONFIG);
    assert.equal(c.listen, '0.0.0.0:8081');
    assert.deepEqual(c.storage, { type: 'fs', path: './data' });
    assert.equal(remoteAt(c, 0).upstream.url, 'https://registry-1.docker.io');
    assert.deepEqual(c.repos.map((r) => `${r.name}:${r.type}`), ['docker-remote:remote', 'docker-local:local', 'docker:virtual']);
    assert.equal(c.defaultRepo, 'docker');
  });

  it('fills defaults', () => {
    const c = validateConfig({ repos: [repo()] });
    assert.equal(remoteAt(c, 0).cache.tagTtlSeconds, 300);
    assert.equal(remoteAt(c, 0).upstream.idleTimeoutSeconds, 60);
  });

  it('reports every problem with its path', () => {
    const p = problems({ listen: 'nope', repos: [repo({ upstream: { url: 'not a url' } }), repo({ name: 'Bad Name', bogus: 1 })] });
    assert.ok(p.some((x) => x.startsWith('listen:')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('repos[0].upstream.url:')), p.join('\n'));
    assert.ok(p.some((x) => x.startsWith('repos[1].name:')), p.join('\n'));
    assert.ok(p.some((x) => x.includes('bogus')), p.join('\n'));
  });

  it('refuses duplicate names, unknown defaultRepo and host targets, credentials in URLs', () => {
    assert.ok(problems({ repos: [repo(), repo()] }).some((x) => x.includes('duplicate')));
    assert.ok(problems({ defaultRepo: 'x', repos: [repo()] }).some((x) => x.includes('defaultRepo')));
    assert.ok(problems({ hosts: { 'a.example.com': 'x' }, repos: [repo()] }).some((x) => x.includes('a.example.com')));
    assert.ok(problems({ repos: [repo({ upstream: { url: 'https://u:p@example.com' } })] }).some((x) => x.includes('credentials')));
  });

  it('expands ${VAR} from the environment and never echoes a password', () => {
    const c = validateConfig({ repos: [repo({ upstream: { url: 'http://h', username: 'u', password: '${PW}' } })] }, { PW: 'hunter2' });
    assert.equal(remoteAt(c, 0).upstream.password, 'hunter2');
    assert.ok(problems({ repos: [repo({ upstream: { url: 'http://h', password: '${MISSING}' } })] }).some((x) => x.includes('MISSING')));
    const p = problems({ repos: [repo({ upstream: { url: 'http://h', password: 12345678 } })] });
    assert.ok(p.length > 0 && !p.join().includes('12345678'), p.join());
  });

  it('checks virtual members, deployTo, permissions and password hashes', () => {
    const local = { name: 'l', format: 'docker', type: 'local' };
    const virt = (extra: Record<string, unknown>) => ({ name: 'v', format: 'docker', type: 'virtual', members: ['l', 'r'], ...extra });
    assert.deepEqual(problems({ repos: [repo({ name: 'r' }), local, virt({ deployTo: 'l' })] }), []);
    assert.deepEqual(problems({ repos: [local, virt({})] }), ['repos[1].members[1]: "r" is not a configured repo']);
    assert.ok(problems({ repos: [repo({ name: 'r' }), local, virt({ deployTo: 'r' })] }).some((x) => x.includes('must be a local repo')));
    assert.ok(problems({ repos: [repo({ name: 'r' }), local, virt({}), { ...virt({}), name: 'w', members: ['v'] }] }).some((x) => x.includes('is virtual')));
    assert.ok(problems({ repos: [{ ...local, permissions: { write: ['anonymous'] } }] }).some((x) => x.includes('anonymous may only read')));
    assert.ok(problems({ repos: [{ ...local, permissions: { read: ['bob'] } }] }).some((x) => x.includes('unknown user "bob"')));
    for (const name of ['../x', '..', 'a/b', 'a\\b', '/abs', 'a\u0000b', '.hidden']) {
      assert.ok(problems({ repos: [{ ...local, name }] }).some((x) => x.startsWith('repos[0].name')), name);
    }
    assert.ok(problems({ auth: { users: { bob: { passwordHash: 'hunter2' } } }, repos: [local] }).some((x) => x.includes('hash-password')));
  });

  it('cross-field problems keep their full path; valibot wording becomes plain words', () => {
    const local = { name: 'l', format: 'docker', type: 'local' };
    assert.deepEqual(problems({ repos: [local, { name: 'v', format: 'docker', type: 'virtual', members: ['l', 'missing'], deployTo: 'nope' }] }), [
      'repos[1].members[1]: "missing" is not a configured repo',
      'repos[1].deployTo: "nope" must be a local repo',
    ]);
    assert.deepEqual(problems({ repos: [{ ...local, colour: 'red' }] }), ['repos[0].colour: unknown key (misspelt, or not a setting here)']);
    assert.deepEqual(problems({ repos: [{ ...local, permissions: { read: ['bob'] } }] }), ['repos[0].permissions.read[0]: unknown user "bob"']);
    assert.ok(problems({ repos: [{ ...local, type: 'weird' }] }).every((x) => !x.includes('Expected never') && !x.includes('Invalid key')));
  });

  it('reads YAML and JSON files', async () => {
    const y = await parseConfigText('repos:\n  - name: hub\n    format: docker\n    type: remote\n    upstream: { url: "http://127.0.0.1:5000" }\n', 'c.yaml');
    assert.equal(y.repos[0]?.name, 'hub');
    const j = await parseConfigText(JSON.stringify({ repos: [repo()] }), 'c.json');
    assert.equal(j.repos[0]?.name, 'hub');
    await assert.rejects(parseConfigText('{bad', 'c.json'), ConfigError);
    await assert.rejects(parseConfigText('repos: [', 'c.yaml'), /cannot parse/);
  });

  it('refuses retention policies that would keep nothing or fight immutable tags', () => {
    const local = (extra: Record<string, unknown>) => ({ repos: [{ name: 'ci', format: 'docker', type: 'local', ...extra }] });
    assert.deepEqual(problems(local({ retention: { keepLast: 5, protect: ['latest', 'release-*'] } })), []);
    assert.ok(problems(local({ retention: { protect: ['latest'] } })).some((p) => p.includes('keepLast or keepDays')));
    assert.ok(problems(local({ retention: { keepDays: 7 }, immutableTags: true })).some((p) => p.includes('immutable')));
    assert.ok(problems(local({ retention: { keepLast: 1, protect: ['a/b'] } })).some((p) => p.includes('tag pattern')));
  });

  // Issue 23 (a neutral core): format rules live in the format's own schema; libraryPrefix is Docker's.
  it('libraryPrefix is a Docker upstream setting only; the retention rule is checked by the Docker schema', () => {
    assert.throws(() => validateConfig({ repos: [{ name: 'g', format: 'generic', type: 'remote', upstream: { url: 'http://127.0.0.1:1', libraryPrefix: true } }] }), /repos\[0\]\.upstream\.libraryPrefix: unknown key/);
    assert.doesNotThrow(() => validateConfig({ repos: [{ name: 'd', format: 'docker', type: 'remote', upstream: { url: 'http://127.0.0.1:1', libraryPrefix: true } }] }));
    assert.throws(() => validateConfig({ repos: [{ name: 'l', format: 'docker', type: 'local', retention: { keepDays: 7 }, immutableTags: true }] }), /repos\[0\]\.retention: retention cannot delete tags that are immutable/);
  });
});
