/** The bench's shared arithmetic: a seeded generator for shuffled rounds, and medians. */

/** The seed of this run (BENCH_SEED repeats an order). */
export const seed = Number(process.env['BENCH_SEED'] ?? Date.now() % 1_000_000);

/** mulberry32: small, seeded, good enough to shuffle a handful of candidates. */
export const rng = ((a: number) => (): number => {
  a = (a + 0x6d2b79f5) | 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
})(seed);

/** The median of the values that are numbers (a failed round is NaN and left out). */
export const median = (xs: number[]): number => {
  const ok = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return ok[Math.floor(ok.length / 2)] ?? Number.NaN;
};

/** Runs a round's candidates one after another, in an order the seeded generator picks. */
export async function inShuffledOrder(tasks: Array<() => Promise<void>>): Promise<void> {
  if (rng() < 0.5) tasks.reverse();
  for (const t of tasks) await t();
}
