import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcessServer } from '../test/helpers/process-server.ts';

/** A cache candidate of a bench round: where clients point, its process (for peak RSS), how it ends. */
export interface Cache {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** A fresh binaryrepo process (compiled dist/, as `npm start`) with one repo, its data under `dir`. */
export async function binaryrepoWith(dir: string, repo: Record<string, unknown>): Promise<Cache> {
  await mkdir(dir, { recursive: true });
  const s = await startProcessServer('node', { storage: { type: 'fs', path: join(dir, 'data') }, log: { requests: false }, repos: [repo] }, dir, { compiled: true });
  return { url: `${s.url}/repo/${String(repo['name'])}`, pid: s.child.pid, stop: () => s.stop() };
}

/** Times per (key, round): rounds are recorded by index so ratios pair up per round. */
export function roundTimes(): { times: Map<string, number[]>; rec: (k: string, round: number, v: number) => void } {
  const times = new Map<string, number[]>();
  return {
    times,
    rec: (k, round, v) => {
      const xs = times.get(k) ?? [];
      xs[round] = v;
      times.set(k, xs);
    },
  };
}
