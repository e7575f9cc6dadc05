import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outermost } from '../../src/formats/maven/http.ts';

// Issue 27: Maven 3.10 reads a prefix file as a tree whose leaves are allowed; a nested entry
// (`/org/corp/plugins` beside `/org/corp`) made it deny every other org.corp path.
describe('the Maven prefix file lists outermost prefixes only', () => {
  it('drops entries under another, whatever sorts between them; keeps siblings', () => {
    assert.deepEqual(outermost(['/org/corp/plugins', '/org/corp-x', '/org/corp', '/org/corp/', '/com/a/b/c', '/com/a', '/net/x']), ['/com/a', '/net/x', '/org/corp', '/org/corp-x']);
  });
});
