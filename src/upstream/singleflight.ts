/** Concurrent calls with one key share one execution (token fetches, manifest fetches). */
export class SingleFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  /** Runs fn unless a call for key is already under way; `shared` tells the caller which it got. */
  do(key: string, fn: () => Promise<T>): { promise: Promise<T>; shared: boolean } {
    const running = this.calls.get(key);
    if (running) return { promise: running, shared: true };
    const promise = fn().finally(() => {
      if (this.calls.get(key) === promise) this.calls.delete(key);
    });
    this.calls.set(key, promise);
    return { promise, shared: false };
  }
}
