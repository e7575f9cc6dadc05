/**
 * Runs fn over items with at most `limit` calls in flight: the storage jobs' file I/O (gc, fsck,
 * start-up scans) overlaps instead of waiting one file at a time, without opening thousands at once.
 * The first failure stops the workers from taking more items and is thrown.
 */
export async function forEachLimit<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  let failed = false;
  const worker = async (): Promise<void> => {
    for (let n = it.next(); !n.done && !failed; n = it.next()) {
      try {
        await fn(n.value);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
}
