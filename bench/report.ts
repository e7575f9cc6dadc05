import type { CeilingRow } from './ceiling.ts';
import type { CpuSample } from './cpu.ts';
import type { BenchImage } from './images.ts';
import type { MemoryRow } from './memory.ts';
import type { SmallRow } from './small.ts';

export interface RoundsResult {
  label: string;
  direct: number[];
  /** CPU seconds of each party during each direct pull (bench/cpu.ts). */
  directCpu: CpuSample[];
  nginx: number[];
  /** coldFirst: the fresh process's first pull (another image set, same shapes); cold: the measured miss after it. */
  rows: Record<string, { coldFirst: number[]; cold: number[]; coldCpu: CpuSample[]; warm: number[]; upstreamBytes: number[]; failures: string[] }>;
  /** The order the candidates ran in, per round (shuffled). */
  orders: string[][];
}

export interface ConcRow {
  candidate: string;
  clients: number;
  ms: number;
  mbPerSec: number;
  upstreamBytes: number;
  upstreamRequests: number;
}

export interface ReportInput {
  env: { date: string; cpus: string; cores: number; memGiB: number; loadavg: string; runtimes: Record<string, string>; rounds: number; seed: number; imageSetBytes: number };
  images: BenchImage[];
  big: BenchImage | undefined;
  main: RoundsResult;
  shaped: RoundsResult | undefined;
  conc: ConcRow[];
  small: SmallRow[];
  memory: MemoryRow[];
  ceiling: CeilingRow[];
  medium: BenchImage;
  median: (xs: number[]) => number;
}

const mb = (b: number): string => (b / 1e6).toFixed(1);

/** Ratios within each round (paired), then their median: a slow round slows both sides alike. */
function paired(num: number[], den: number[], median: (xs: number[]) => number): number {
  return median(num.map((x, i) => x / (den[i] ?? Number.NaN)));
}

function roundsTable(r: RoundsResult, total: number, median: (xs: number[]) => number, cores: number): string[] {
  const d = median(r.direct);
  const n = median(r.nginx);
  const lines = [
    `### Pulls, ${r.label} (${r.direct.length} rounds, order shuffled per round; ms are medians, ratios are medians of per-round ratios)`,
    '',
    '| candidate | cold ms | cold ÷ direct | first pull of a fresh process ÷ direct | warm ms | warm ÷ direct | warm ÷ nginx | upstream bytes (cold) ÷ image set |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| upstream direct | ${d.toFixed(0)} | 1.00 | | | | | |`,
    `| nginx, same files (warm only) | | | | ${n.toFixed(0)} | ${paired(r.nginx, r.direct, median).toFixed(2)} | 1.00 | |`,
  ];
  for (const [name, row] of Object.entries(r.rows)) {
    const cells = [
      median(row.cold).toFixed(0),
      paired(row.cold, r.direct, median).toFixed(2),
      paired(row.coldFirst, r.direct, median).toFixed(2),
      median(row.warm).toFixed(0),
      paired(row.warm, r.direct, median).toFixed(2),
      paired(row.warm, r.nginx, median).toFixed(2),
      (median(row.upstreamBytes) / total).toFixed(2),
    ];
    lines.push(`| ${name} | ${cells.join(' | ')} |`);
  }
  for (const [name, row] of Object.entries(r.rows)) for (const f of row.failures) lines.push(`FAILED ${name} ${f}`);
  lines.push('', ...cpuTable(r, median, cores));
  return lines;
}

/**
 * Where the cores went during each cold pull: CPU seconds of the bench process (the pulling client,
 * which hashes every byte, and the counting relay), the upstream registry and the cache. Client,
 * upstream and cache share the machine's cores, so a pull's wall time cannot fall below their CPU
 * total ÷ cores: the last column is that floor as a share of the wall time measured (1.00: every
 * core busy the whole pull).
 */
function cpuTable(r: RoundsResult, median: (xs: number[]) => number, cores: number): string[] {
  const s = (xs: number[]): string => median(xs).toFixed(2);
  const row = (name: string, wallMs: number[], cpu: CpuSample[]): string => {
    const total = cpu.map((c) => c.client + c.upstream + (Number.isNaN(c.server) ? 0 : c.server));
    const busy = total.map((t, i) => t / cores / ((wallMs[i] ?? Number.NaN) / 1000));
    return `| ${name} | ${(median(wallMs) / 1000).toFixed(2)} | ${s(cpu.map((c) => c.client))} | ${s(cpu.map((c) => c.upstream))} | ${cpu.every((c) => Number.isNaN(c.server)) ? '' : s(cpu.map((c) => c.server))} | ${s(total)} | ${s(busy)} |`;
  };
  return [
    `CPU seconds per pull of the image set (medians; ${cores} cores shared by client, upstream and cache):`,
    '',
    '| pull | wall s | client + relay | upstream registry | cache | total | total ÷ cores ÷ wall |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row('direct', r.direct, r.directCpu),
    ...Object.entries(r.rows).map(([name, x]) => row(`${name}, cold`, x.cold, x.coldCpu)),
  ];
}

/** The markdown report printed on stdout (the JSON has every sample). */
export function report(x: ReportInput): string {
  const { env, median } = x;
  const lines = [
    `## binaryrepo pull bench — ${env.date}`,
    '',
    `Machine: ${env.cpus}, ${env.memGiB} GiB, load average at the end ${env.loadavg}. Versions: ${Object.entries(env.runtimes).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Image set: ${x.images.map((i) => `${i.name} ${mb(i.bytes)} MB`).join(', ')}${x.big ? `; memory bench layer ${mb(x.big.bytes)} MB` : ''}. Upstream: docker-registry behind a counting relay. Candidate order shuffled per round, seed ${env.seed} (BENCH_SEED).`,
    '',
    ...roundsTable(x.main, env.imageSetBytes, median, env.cores),
    '',
    ...(x.shaped ? [...roundsTable(x.shaped, env.imageSetBytes, median, env.cores), ''] : []),
    `### Concurrent cold pulls of ${x.medium.name} (${mb(x.medium.bytes)} MB), unshaped`,
    '',
    '| candidate | clients | wall ms | aggregate MB/s | upstream bytes ÷ image | upstream blob GETs |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...x.conc.map((c) => `| ${c.candidate} | ${c.clients} | ${c.ms.toFixed(0)} | ${c.mbPerSec.toFixed(0)} | ${(c.upstreamBytes / x.medium.bytes).toFixed(2)} | ${c.upstreamRequests} |`),
    '',
    '### Small requests on a warm cache (16 keep-alive connections; wrk for GET, ab for HEAD)',
    '',
    '| target | request | tool | req/s | p50 ms | p99 ms | errors |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...x.small.map((s) => `| ${s.target} | ${s.request} | ${s.tool} | ${s.rps.toFixed(0)} | ${s.p50ms.toFixed(2)} | ${s.p99ms.toFixed(2)} | ${s.errors} |`),
    '',
    ...blobRatios(x.small),
    '',
    '### Peak RSS of the server (VmHWM, reset per phase)',
    '',
    '| candidate | phase | peak RSS MB | ms |',
    '| --- | --- | ---: | ---: |',
    ...x.memory.map((m) => `| ${m.candidate} | ${m.phase} | ${m.peakMb.toFixed(0)} | ${m.ms.toFixed(0)} |`),
    '',
    `### Client ceiling: ${x.medium.name} from nginx and from warm binaryrepo servers, nothing else running (rounds interleaved; ratios per round, median)`,
    '',
    '| target | client | ms | MB/s | ÷ nginx, same client |',
    '| --- | --- | ---: | ---: | ---: |',
    ...x.ceiling.map((c) => `| ${c.target} | ${c.client} | ${c.ms.toFixed(0)} | ${c.mbPerSec.toFixed(0)} | ${c.ratio.toFixed(2)} |`),
  ];
  return lines.join('\n');
}

/** The one-large-blob rows as ratios: binaryrepo ÷ nginx, and ÷ the same runtime's own file send (its ceiling). */
function blobRatios(small: SmallRow[]): string[] {
  const rate = (target: string): number => small.find((s) => s.target === target && s.request.startsWith('blob GET'))?.rps ?? Number.NaN;
  const nginx = rate('nginx (static files)');
  return small
    .filter((s) => s.target.startsWith('binaryrepo (') && s.request.startsWith('blob GET'))
    .map((s) => {
      const rt = /\((\w+)\)/.exec(s.target)?.[1] ?? '';
      return `One large blob with wrk, ${s.target}: ${(s.rps / nginx).toFixed(2)} × nginx, ${(s.rps / rate(`${rt}'s own file send (minimal server)`)).toFixed(2)} × ${rt}'s own file send.`;
    });
}
