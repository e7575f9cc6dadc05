import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../test/helpers/net.ts';
import { PULL_ACCEPT } from '../test/helpers/pull.ts';
import { cpuSeconds } from './cpu.ts';

export interface SmallRow {
  target: string;
  request: string;
  tool: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  /** The server's CPU (all threads, user + kernel) per request, µs; NaN when its pid was not given. */
  cpuUs: number;
}

function ms(v: string | undefined, unit: string | undefined): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/**
 * Small-request rates with C load tools on 16 keep-alive connections, so the tool is not what
 * limits the numbers: wrk (2 threads) for GET; ab for HEAD, because Debian's wrk 4.1 cannot parse
 * HEAD responses (every request ends in a read error). ab reports percentiles in whole ms.
 */
export async function wrk(target: string, base: string, requests: Array<{ label: string; method: 'GET' | 'HEAD'; path: string }>, seconds: number, dir: string, serverPid?: number, headers: Record<string, string> = { Accept: PULL_ACCEPT }, connections = 16): Promise<SmallRow[]> {
  const rows: SmallRow[] = [];
  for (const r of requests) {
    const cpu0 = serverPid ? await cpuSeconds(serverPid) : Number.NaN;
    const row = r.method === 'HEAD' ? await ab(target, r.label, `${base}${r.path}`, seconds) : await wrkGet(target, r.label, `${base}${r.path}`, seconds, dir, headers, connections);
    const cpu1 = serverPid ? await cpuSeconds(serverPid) : Number.NaN;
    rows.push({ ...row, cpuUs: (1e6 * (cpu1 - cpu0)) / row.count });
  }
  return rows;
}

async function wrkGet(target: string, label: string, url: string, seconds: number, dir: string, headers: Record<string, string>, connections: number): Promise<Omit<SmallRow, 'cpuUs'> & { count: number }> {
  const script = join(dir, 'wrk-headers.lua');
  await writeFile(script, Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}\n`).join(''));
  const out = await run('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url], { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const lat = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return ms(m?.[1], m?.[2]);
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, x) => a + Number(x), 0) : 0);
  const count = Number(/(\d+) requests in/.exec(text)?.[1] ?? Number.NaN);
  return { target, request: label, tool: 'wrk', count, rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN), p50ms: lat('50'), p99ms: lat('99'), errors };
}

async function ab(target: string, label: string, url: string, seconds: number): Promise<Omit<SmallRow, 'cpuUs'> & { count: number }> {
  const out = await run('ab', ['-k', '-i', '-q', '-c', '16', '-t', String(seconds), '-n', '10000000', '-H', `Accept: ${PULL_ACCEPT}`, url], { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`ab failed: ${out.stderr}`);
  const text = out.stdout;
  const pct = (p: string): number => Number(new RegExp(`\\s${p}%\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
  const failed = Number(/Failed requests:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const count = Number(/Complete requests:\s+(\d+)/.exec(text)?.[1] ?? Number.NaN);
  return { target, request: label, tool: 'ab', count, rps: Number(/Requests per second:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN), p50ms: pct('50'), p99ms: pct('99'), errors: failed + non2xx };
}
