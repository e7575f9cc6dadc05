import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessControl } from '../../src/auth/access.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

const HASH = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43);
const config = (auth: Record<string, unknown> | undefined, repos: Array<Record<string, unknown>>): Config =>
  validateConfig({ ...(auth ? { auth } : {}), repos });
const local = (name: string, read: string[]): Record<string, unknown> => ({ name, format: 'docker', type: 'local', permissions: { read } });
const users = { ann: { passwordHash: HASH }, bob: { passwordHash: HASH } };

// What a SIGHUP can change on a running server, and what it reports it could not.
describe('AccessControl.reload', () => {
  it('applies permissions of running repos and reports repos added or removed', () => {
    const ac = new AccessControl(config({ users }, [local('a', ['ann']), local('b', ['ann'])]), new Uint8Array(32), Date.now);
    assert.equal(ac.can('ann', 'a', 'pull'), true);
    assert.equal(ac.can('bob', 'a', 'pull'), false);
    const notes = ac.reload(config({ users }, [local('a', ['bob']), local('c', ['bob'])]));
    assert.equal(ac.can('ann', 'a', 'pull'), false);
    assert.equal(ac.can('bob', 'a', 'pull'), true);
    assert.equal(ac.can('ann', 'b', 'pull'), true, 'a repo gone from the file keeps serving as configured until restart');
    assert.equal(ac.can('bob', 'c', 'pull'), false, 'a new repo does not exist until restart');
    assert.deepEqual(notes, [
      'repo b is gone from the config; removing a repo needs a restart',
      'repo c is new; adding a repo needs a restart',
    ]);
  });

  it('keeps what the running token signer depends on', () => {
    const ac = new AccessControl(config({ users, service: 'one' }, [local('a', ['ann'])]), new Uint8Array(32), Date.now);
    const notes = ac.reload(config({ users: { ann: { passwordHash: HASH, admin: true } }, service: 'two' }, [local('a', [])]));
    assert.equal(ac.service, 'one');
    assert.equal(ac.can('ann', 'a', 'delete'), true, 'the new admin flag applies');
    assert.equal(ac.can('bob', 'a', 'pull'), false, 'a removed user has no access');
    assert.ok(notes.some((n) => n.includes('auth.service')), notes.join());
    const off = new AccessControl(config(undefined, [local('a', [])]), new Uint8Array(0), Date.now);
    assert.ok(off.reload(config({ users }, [local('a', [])])).some((n) => n.includes('needs a restart')));
    assert.equal(off.enabled, false);
  });
});
