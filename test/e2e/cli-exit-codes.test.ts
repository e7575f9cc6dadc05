import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli } from '../helpers/cli.ts';
import { freePort } from '../helpers/net.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 24, 10: `config check <bad file>` exited 2 while --help said 1, `export` of an unreachable
// upstream exited 2 while `warm` exited 1. One table (in --help and docs/operations.md), every command held to it.
describe('the CLI exit codes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let good: string;
  let bad: string;
  before(async () => {
    dir = await tempDir('exit-codes-');
    const closed = await freePort();
    good = join(dir.path, 'good.json');
    bad = join(dir.path, 'bad.json');
    await writeFile(good, JSON.stringify({ storage: { type: 'fs', path: join(dir.path, 'data') }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: `http://127.0.0.1:${closed}`, headersTimeoutSeconds: 2 } }, { name: 'files', format: 'generic', type: 'local' }] }));
    await writeFile(bad, JSON.stringify({ repos: [{ name: 'x', format: 'docker', type: 'remote' }] }));
  });
  after(() => dir?.cleanup());

  const cases: Array<[string, string[], number, string?]> = [
    ['--help', ['--help'], 0],
    ['config check of a valid file', ['config', 'check', '__good__'], 0],
    ['config check of an invalid file', ['config', 'check', '__bad__'], 1],
    ['hash-password of a short password', ['hash-password'], 1, 'short\n'],
    ['export from an unreachable upstream', ['export', 'hub', 'library/alpine:3', '-o', '__out__', '--config', '__good__'], 1],
    ['warm from an unreachable upstream', ['warm', 'hub', 'library/alpine:3', '--config', '__good__'], 1],
    ['import of a file that is no bundle', ['import', '__good__', '--repo', 'files', '--config', '__good__'], 1],
    ['an unknown command', ['frobnicate'], 2],
    ['an unknown flag', ['gc', '--dryrun'], 2],
    ['a missing argument', ['export', 'hub'], 2],
    ['a --config that does not load', ['gc', '--config', '__bad__'], 2],
  ];
  for (const [what, args, code, input] of cases) {
    it(`${what}: ${code}`, async () => {
      const real = args.map((a) => (a === '__good__' ? good : a === '__bad__' ? bad : a === '__out__' ? join(dir.path, 'out.tar') : a));
      const r = await cli(real, input ?? '');
      assert.equal(r.code, code, `${r.stdout}\n${r.stderr}`);
    });
  }
  it('--help prints the table', async () => {
    const r = await cli(['--help']);
    assert.match(r.stdout, /exit codes \(every command\):\n {2}0 {2}done\n {2}1 {2}the command ran and the answer is no/);
  });
});
