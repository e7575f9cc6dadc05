import { readFile, writeFile } from 'node:fs/promises';
import { pullImage } from '../test/helpers/pull.ts';
import type { Candidate } from './peers.ts';
import type { BenchImage } from './images.ts';

/** Peak resident set (VmHWM) of a process in MB, from /proc. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Resets VmHWM to the current RSS (Linux clear_refs "5"), so each phase reports its own peak. */
async function resetPeak(pid: number): Promise<void> {
  await writeFile(`/proc/${pid}/clear_refs`, '5');
}

export interface MemoryRow {
  candidate: string;
  phase: string;
  peakMb: number;
  ms: number;
}

/**
 * Peak RSS of the server while it serves: the big image cold then warm, the medium image cold
 * (flatness: the peak should not grow with the blob), and `clients` concurrent cold pulls.
 */
export async function measureMemory(c: Candidate, big: BenchImage | undefined, medium: BenchImage, clients: number): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const phase = async (pid: number, name: string, fn: () => Promise<unknown>): Promise<void> => {
    await resetPeak(pid);
    const t0 = performance.now();
    await fn();
    rows.push({ candidate: c.name, phase: name, peakMb: await peakRssMb(pid), ms: performance.now() - t0 });
  };
  const a = await c.start();
  try {
    if (!a.pid) throw new Error(`${c.name} has no pid to measure`);
    rows.push({ candidate: c.name, phase: 'idle after start', peakMb: await peakRssMb(a.pid), ms: 0 });
    await phase(a.pid, `${medium.name} cold`, () => pullImage(a.base, medium.name, medium.tag));
    if (big) {
      await phase(a.pid, `${big.name} cold`, () => pullImage(a.base, big.name, big.tag));
      await phase(a.pid, `${big.name} warm`, () => pullImage(a.base, big.name, big.tag));
    }
  } finally {
    await a.stop();
  }
  const b = await c.start();
  try {
    if (!b.pid) throw new Error(`${c.name} has no pid to measure`);
    await phase(b.pid, `${clients} clients, ${medium.name} cold`, () =>
      Promise.all(Array.from({ length: clients }, () => pullImage(b.base, medium.name, medium.tag))),
    );
  } finally {
    await b.stop();
  }
  return rows;
}
