/**
 * Requests with a body (POST, PUT, PATCH) one client address may have in flight at once. A stalled
 * body holds a connection and a file handle until its idle timeout; without a bound, one anonymous
 * address could open thousands (issue 24, 14: 20,000 stalled /ui/login POSTs took a server to its fd
 * limit, and every new connection was closed unanswered). The count is taken before any byte of the
 * body is read and given back when the answer is ready. 0 = no limit.
 */
export class BodyAdmission {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerClient: number) {}

  /** A release function, or null when this client is at its limit. */
  admit(client: string): (() => void) | null {
    if (this.maxPerClient <= 0) return () => {};
    const n = this.open.get(client) ?? 0;
    if (n >= this.maxPerClient) return null;
    this.open.set(client, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.open.get(client) ?? 1) - 1;
      if (left <= 0) this.open.delete(client);
      else this.open.set(client, left);
    };
  }

  /** Clients holding bodies open now (metrics, tests). */
  get clients(): number {
    return this.open.size;
  }
}
