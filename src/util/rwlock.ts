/**
 * Many shared holders or one exclusive holder. Pushes that create references (links, manifests)
 * hold it shared; the online garbage collector holds it exclusive, so no reference can appear
 * between its mark and its sweep. Waiting exclusive requests block new shared ones (no starvation).
 */
export class RwLock {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: Array<{ exclusive: boolean; go: () => void }> = [];

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.shared--;
      this.wake();
    }
  }

  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.exclusive = false;
      this.wake();
    }
  }

  private acquire(exclusive: boolean): Promise<void> {
    if (this.canRun(exclusive) && this.waiting.length === 0) {
      this.take(exclusive);
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ exclusive, go }));
  }

  private canRun(exclusive: boolean): boolean {
    return exclusive ? !this.exclusive && this.shared === 0 : !this.exclusive;
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }

  private wake(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0];
      if (!next || !this.canRun(next.exclusive)) return;
      this.waiting.shift();
      this.take(next.exclusive);
      next.go();
      if (next.exclusive) return;
    }
  }
}
