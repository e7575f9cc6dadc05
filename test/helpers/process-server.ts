import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stopChild } from './net.ts';

export type RuntimeName = 'node' | 'bun' | 'deno';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface LaunchOptions {
  /** Node runs the compiled dist/ exactly as `npm start` does (benchmarks: the tsx loader thread costs ~30 MB RSS). */
  compiled?: boolean;
  /** Extra environment variables for the process. */
  env?: Record<string, string>;
}

/** The command each runtime's launcher runs (what npm start / bun run serve / deno task serve do). */
export function runtimeCommand(rt: RuntimeName, configPath: string, opts: LaunchOptions = {}): [string, string[]] {
  const bin = (n: string): string => join(ROOT, 'node_modules', '.bin', n);
  if (rt === 'bun') return [bin('bun'), [join(ROOT, 'adapters/bun.ts'), '--config', configPath]];
  if (rt === 'deno') {
    return [
      bin('deno'),
      ['run', '--allow-net', '--allow-read', '--allow-write', '--allow-env', '--allow-sys', '--unstable-no-legacy-abort', join(ROOT, 'adapters/deno.ts'), '--config', configPath],
    ];
  }
  if (opts.compiled) return [process.execPath, [join(ROOT, 'dist/adapters/node.js'), '--config', configPath]];
  return [process.execPath, ['--import', 'tsx', join(ROOT, 'adapters/node.ts'), '--config', configPath]];
}

export interface ProcessServer {
  url: string;
  child: ChildProcess;
  logs: string[];
  /** The last 4000 characters the process wrote to stderr. */
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts binaryrepo as its own process on a runtime; resolves once it logs `listening`. */
export async function startProcessServer(rt: RuntimeName, config: Record<string, unknown>, dir: string, opts: LaunchOptions = {}): Promise<ProcessServer> {
  const configPath = join(dir, `config-${rt}.json`);
  await writeFile(configPath, JSON.stringify({ listen: '127.0.0.1:0', ...config }));
  const [cmd, args] = runtimeCommand(rt, configPath, opts);
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...opts.env } });
  const logs: string[] = [];
  let buf = '';
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${rt} server did not start in time\n${stderr}`)), 30_000);
    child.once('exit', (code) => rej(new Error(`${rt} server exited with ${code}\n${stderr}`)));
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        try {
          const j = JSON.parse(line) as { msg?: string; port?: number };
          if (j.msg === 'listening' && j.port) {
            clearTimeout(timer);
            res(j.port);
          }
        } catch {
          // not JSON: runtime noise
        }
        i = buf.indexOf('\n');
      }
    });
  });
  return { url: `http://127.0.0.1:${port}`, child, logs, stderr: () => stderr, stop: (signal = 'SIGTERM') => stopChild(child, signal) };
}
