import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../test/helpers/net.ts';
import { PULL_ACCEPT } from '../test/helpers/pull.ts';

export interface SmallRow {
  target: string;
  request: string;
  tool: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
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
export async function wrk(target: string, base: string, requests: Array<{ label: string; method: 'GET' | 'HEAD'; path: string }>, seconds: number, dir: string): Promise<SmallRow[]> {
  const rows: SmallRow[] = [];
  for (const r of requests) rows.push(r.method === 'HEAD' ? await ab(target, r.label, `${base}${r.path}`, seconds) : await wrkGet(target, r.label, `${base}${r.path}`, seconds, dir));
  return rows;
}

async function wrkGet(target: string, label: string, url: string, seconds: number, dir: string): Promise<SmallRow> {
  const script = join(dir, 'wrk-accept.lua');
  await writeFile(script, `wrk.headers["Accept"] = "${PULL_ACCEPT}"\n`);
  const out = await run('wrk', ['-t2', '-c16', `-d${seconds}s`, '--latency', '-s', script, url], { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`wrk failed: ${out.stderr}`);
  const text = out.stdout;
  const lat = (p: string): number => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return ms(m?.[1], m?.[2]);
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = non2xx + (sockErr ? sockErr.slice(1).reduce((a, x) => a + Number(x), 0) : 0);
  return { target, request: label, tool: 'wrk', rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN), p50ms: lat('50'), p99ms: lat('99'), errors };
}

async function ab(target: string, label: string, url: string, seconds: number): Promise<SmallRow> {
  const out = await run('ab', ['-k', '-i', '-q', '-c', '16', '-t', String(seconds), '-n', '10000000', '-H', `Accept: ${PULL_ACCEPT}`, url], { timeoutMs: (seconds + 30) * 1000 });
  if (out.code !== 0) throw new Error(`ab failed: ${out.stderr}`);
  const text = out.stdout;
  const pct = (p: string): number => Number(new RegExp(`\\s${p}%\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
  const failed = Number(/Failed requests:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  return { target, request: label, tool: 'ab', rps: Number(/Requests per second:\s+([\d.]+)/.exec(text)?.[1] ?? Number.NaN), p50ms: pct('50'), p99ms: pct('99'), errors: failed + non2xx };
}
