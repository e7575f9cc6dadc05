/**
 * Progress for long CLI work: on a terminal, one bar per item in flight and an overall bar,
 * redrawn in place (at most every 100 ms); otherwise plain lines, one per finished item, so logs
 * and pipes stay readable.
 */
export interface ProgressItem {
  label: string;
  size: number | undefined;
  done: () => number;
}

const WIDTH = 30;

function bar(fraction: number): string {
  const n = Math.max(0, Math.min(WIDTH, Math.round(fraction * WIDTH)));
  return `[${'#'.repeat(n)}${'.'.repeat(WIDTH - n)}]`;
}

export function mb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`;
}

export class Progress {
  private readonly active = new Set<ProgressItem>();
  private finished = 0;
  private finishedBytes = 0;
  private drawn = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly title: string,
    private readonly total: { items: number; bytes?: number },
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    if (out.isTTY) this.timer = setInterval(() => this.draw(), 100);
  }

  start(item: ProgressItem): void {
    this.active.add(item);
  }

  /** An item ended; `note` says how (fetched, cached, failed: ...). */
  end(item: ProgressItem, note: string): void {
    this.active.delete(item);
    this.finished++;
    this.finishedBytes += item.size ?? item.done();
    if (!this.out.isTTY) this.out.write(`${this.title}: ${item.label} ${note} (${this.finished}/${this.total.items})\n`);
    else this.draw();
  }

  /** Adds to the expected totals (items discovered as the work goes, like an index's children). */
  grow(items: number, bytes: number): void {
    this.total.items += items;
    if (this.total.bytes !== undefined) this.total.bytes += bytes;
  }

  stop(summary: string): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
    this.out.write(`${this.title}: ${summary}\n`);
  }

  private clear(): void {
    if (!this.out.isTTY || this.drawn === 0) return;
    this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const lines: string[] = [];
    for (const it of [...this.active].slice(0, 8)) {
      const d = it.done();
      lines.push(`  ${bar(it.size ? d / it.size : 0)} ${it.label.slice(0, 40)} ${mb(d)}${it.size ? ` / ${mb(it.size)}` : ''}`);
    }
    const bytes = this.finishedBytes + [...this.active].reduce((n, it) => n + it.done(), 0);
    const t = this.total;
    const frac = t.bytes ? bytes / t.bytes : t.items ? this.finished / t.items : 0;
    lines.push(`${this.title} ${bar(frac)} ${this.finished}/${t.items} ${mb(bytes)}${t.bytes ? ` / ${mb(t.bytes)}` : ''}`);
    this.out.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
