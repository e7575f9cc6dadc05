import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startProcessServer } from '../test/helpers/process-server.ts';
import { median } from './stats.ts';

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

/**
 * The markdown table of one link of a cache bench (npm, Maven, Cargo): each candidate's median time,
 * its ratio to the direct run of the same round, and the upstream GETs its cold or warm run made
 * (recorded under `<candidate>, upstream GETs cold|warm`; nothing for a "first ... of a fresh process" row).
 */
export function ratioTable(times: Map<string, number[]>, link: string, labels: string[], rounds: number): string {
  const d = times.get(`${link}|upstream direct`) ?? [];
  const ratio = (xs: number[]): string => median(xs.map((x, i) => x / (d[i] ?? Number.NaN))).toFixed(2);
  const row = (label: string): string => {
    const xs = times.get(`${link}|${label}`) ?? [];
    const g = label.includes('fresh process') ? Number.NaN : median(times.get(`${link}|${label.replace(/, (cold|warm)$/, '')}, upstream GETs ${label.endsWith('warm') ? 'warm' : 'cold'}`) ?? []);
    return `| ${label} | ${median(xs).toFixed(0)} | ${label === 'upstream direct' ? '1.00' : ratio(xs)} | ${Number.isNaN(g) ? '' : g} |`;
  };
  return `${link} (ms, medians of ${rounds} rounds; ratios per round):\n\n| candidate | ms | ÷ direct | upstream GETs |\n| --- | ---: | ---: | ---: |\n${labels.map(row).join('\n')}\n`;
}

/**
 * One cache candidate's runs in a round (npm, Maven, Cargo, Debian): a first run over other content
 * of the same shapes (`<label>, first <what> of a fresh process`), then cold and warm, each with the
 * upstream GETs it made (what ratioTable reads back).
 */
export async function coldWarmRuns(
  rec: (k: string, round: number, v: number) => void,
  key: (c: string) => string,
  round: number,
  opts: { label: string; what: string; relay: { reset(): void; count(method: string, part: string): number } },
  run: (first: boolean) => Promise<number>,
): Promise<void> {
  const { label, what, relay } = opts;
  rec(key(`${label}, first ${what} of a fresh process`), round, await run(true));
  for (const phase of ['cold', 'warm']) {
    relay.reset();
    rec(key(`${label}, ${phase}`), round, await run(false));
    rec(key(`${label}, upstream GETs ${phase}`), round, relay.count('GET', '/'));
  }
}
