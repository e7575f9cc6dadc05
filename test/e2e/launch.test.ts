import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, run } from '../helpers/net.ts';
import { runtimeCommand } from '../helpers/process-server.ts';
import type { RuntimeName } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

/** The launch lines the README shows, run exactly as written (after `npm ci` and the build). */
const LAUNCH_LINES = ['npm start', 'npx bun run serve', 'npx deno task serve'];

/** Runs a shell line in its own process group until it logs `listening`; returns the port. */
function launch(line: string, env: NodeJS.ProcessEnv): Promise<{ port: number; stop: () => void }> {
  const child = spawn('sh', ['-c', line], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = (): void => {
    try {
      process.kill(-(child.pid ?? 0), 'SIGTERM');
    } catch {
      // already gone
    }
  };
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => {
      stop();
      rej(new Error(`${line}: no 'listening' within 60 s\n${out}`));
    }, 60_000);
    const seen = (d: Buffer): void => {
      out += d.toString();
      const m = /"msg":"listening"[^\n]*"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ port: Number(m[1]), stop });
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${line} exited with ${code}\n${out}`));
    });
  });
}

// Issue 9, items 16-18: every launch line of the README works as written; a mistyped flag or a
// busy port is one clear line and exit 2, never a silent start on the embedded default.
describe('launching binaryrepo', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let configPath: string;

  before(async () => {
    dir = await tempDir('launch-');
    configPath = join(dir.path, 'config.yaml');
    await writeFile(configPath, `listen: 127.0.0.1:0\nstorage: { type: fs, path: ${join(dir.path, 'data')} }\nrepos: [ { name: l, format: docker, type: local } ]\n`);
  });
  after(() => dir?.cleanup());

  for (const line of LAUNCH_LINES) {
    it(`README's "${line}" starts a server that answers`, async () => {
      const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
      assert.ok(readme.includes(line), `the README shows ${line}`);
      const s = await launch(line, { BINARYREPO_CONFIG: configPath });
      try {
        const r = await fetch(`http://127.0.0.1:${s.port}/-/health`);
        assert.equal(r.status, 200);
        assert.equal(((await r.json()) as { status: string }).status, 'ok');
      } finally {
        s.stop();
      }
    });
  }

  it('a mistyped flag or a missing value is an error (exit 2), never the embedded default', async () => {
    const [cmd, args] = runtimeCommand('node', configPath);
    const base = args.slice(0, -2); // without --config <file>
    const typo = await run(cmd, [...base, '--conf', configPath], { timeoutMs: 30_000 });
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option --conf/);
    const bare = await run(cmd, [...base, '--config'], { timeoutMs: 30_000 });
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /--config needs a value/);
    const cli = await run(process.execPath, [join(ROOT, 'dist/adapters/cli/main.js'), 'gc', '--dryrun'], { timeoutMs: 30_000 });
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /unknown option --dryrun/);
  });

  for (const rt of ['node', 'bun', 'deno'] as RuntimeName[]) {
    it(`${rt}: a port in use is one clear line and exit 2`, async () => {
      const port = await freePort();
      const busy = createServer();
      await new Promise<void>((r) => busy.listen(port, '127.0.0.1', () => r()));
      try {
        const cfg = join(dir.path, `busy-${rt}.json`);
        await writeFile(cfg, JSON.stringify({ listen: `127.0.0.1:${port}`, storage: { type: 'fs', path: join(dir.path, `data-${rt}`) }, repos: [] }));
        const [cmd, args] = runtimeCommand(rt, cfg);
        const r = await run(cmd, args, { timeoutMs: 60_000 });
        assert.equal(r.code, 2, r.stderr);
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0] ?? '', /already in use/);
      } finally {
        busy.close();
      }
    });
  }

  it('make help names every target of the Makefile', async () => {
    const makefile = await readFile(join(ROOT, 'Makefile'), 'utf8');
    const targets = (/^\.PHONY:(.*)$/m.exec(makefile)?.[1] ?? '').trim().split(/\s+/).filter((t) => t !== 'help');
    assert.ok(targets.length > 10);
    const help = await run('make', ['-s', 'help'], { cwd: ROOT, timeoutMs: 30_000 });
    for (const t of targets) assert.match(help.stdout, new RegExp(`^make ${t}\\s`, 'm'), `make help lists ${t}`);
  });

  it("package.json's bin is built and runs", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = pkg.bin['binaryrepo'];
    assert.ok(bin);
    const r = await run(process.execPath, [join(ROOT, bin), '--help'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage:\n  binaryrepo serve .*\n  binaryrepo gc \[--dry-run\]/);
  });
});
