import { readdir, readFile } from 'node:fs/promises';

/**
 * CPU time of a process, every thread (each /proc/<pid>/task/<tid>/schedstat starts with the ns
 * that thread ran), in seconds. The bench reads it around each pull to show where the cores went:
 * on a 2-core machine a pull cannot take less wall time than the CPU all its processes need ÷ 2.
 */
export async function cpuSeconds(pid: number): Promise<number> {
  let ns = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '');
    ns += Number(text.split(' ')[0] ?? 0) || 0;
  }
  return ns / 1e9;
}

/** This process's CPU time (the client and the counting relay run here), in seconds. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface CpuSample {
  /** The bench process: the pulling client and the relay in front of the upstream. */
  client: number;
  upstream: number;
  /** The cache under test; NaN for a direct pull. */
  server: number;
}

/** Runs `fn` and returns the CPU seconds each party used meanwhile. */
export async function withCpu(upstreamPid: number | undefined, serverPid: number | undefined, fn: () => Promise<void>): Promise<CpuSample> {
  const read = async (pid: number | undefined): Promise<number> => (pid ? cpuSeconds(pid) : Number.NaN);
  const [c0, u0, s0] = [selfCpuSeconds(), await read(upstreamPid), await read(serverPid)];
  await fn();
  const [c1, u1, s1] = [selfCpuSeconds(), await read(upstreamPid), await read(serverPid)];
  return { client: c1 - c0, upstream: u1 - u0, server: s1 - s0 };
}
