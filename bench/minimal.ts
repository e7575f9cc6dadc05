// Starts bench/minimal-server.ts on a runtime: the reference servers of the small-request and
// large-blob rows (each runtime's own minimal handler, or its own way of sending a file).
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { RuntimeName } from '../test/helpers/process-server.ts';

const ROOT = resolve(import.meta.dirname, '..');

/**
 * The minimal server on a runtime (`raw`: node:http without the fetch adapter; `variant`: see
 * minimal-server.ts; `file`: answer every request with that file, sent the runtime's own way);
 * resolves to its URL and pid.
 */
export async function startMinimal(rt: RuntimeName, opts: { raw?: boolean; variant?: string; file?: string } = {}): Promise<{ url: string; pid: number | undefined; stop: () => void }> {
  const script = join(ROOT, 'bench', 'minimal-server.ts');
  const bin = (n: string): string => join(ROOT, 'node_modules', '.bin', n);
  const extra = [...(opts.raw ? ['--raw'] : []), ...(opts.variant ? [`--variant=${opts.variant}`] : []), ...(opts.file ? [`--file=${opts.file}`] : [])];
  const [cmd, args] = rt === 'bun' ? [bin('bun'), [script, ...extra]] : rt === 'deno' ? [bin('deno'), ['run', '--allow-net', '--allow-env', '--allow-read', script, ...extra]] : [process.execPath, ['--import', 'tsx', script, ...extra]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /"port":(\d+)/.exec(d.toString());
      if (m?.[1]) res(Number(m[1]));
    });
    child.once('exit', (code) => rej(new Error(`minimal server (${rt}) exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGTERM') };
}
