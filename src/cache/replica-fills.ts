import { RegistryError } from '../errors.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { Digest } from '../storage/digest.ts';
import { Leases } from '../storage/lease.ts';
import type { FillSource } from './fills.ts';

const POLL_FIRST_MS = 50;

async function* nothing(): AsyncGenerator<Uint8Array> {}
const fromStore = (digest: Digest, size: number): FillSource => ({ body: nothing(), size, stored: { digest, size } });
const POLL_MAX_MS = 250;

/**
 * One upstream download per blob across replicas on a shared store. Before a fill asks upstream,
 * it takes the blob's lease; a replica that finds the lease held by a live peer does not download:
 * it waits until the blob is in the store (then serves it from there) or the lease expires (the
 * holder died: then one waiter takes it over and downloads). A client of a waiting replica gets
 * nothing before the blob is verified and stored, so no replica ever serves unverified bytes.
 */
export class ReplicaFills {
  constructor(
    private readonly leases: Leases,
    private readonly blobs: BlobStore,
    private readonly now: () => number = Date.now,
    private readonly event: (e: 'leased' | 'waited' | 'from_peer' | 'takeover') => void = () => {},
    /** A peer that holds the lease this long (renewing it, so alive) without finishing is given up on. */
    private readonly maxWaitMs = 30 * 60_000,
  ) {}

  guard(expected: Digest, start: () => Promise<FillSource>): () => Promise<FillSource> {
    return async () => {
      const key = await Leases.keyFor(expected.value);
      const began = this.now();
      let pause = POLL_FIRST_MS;
      let waited = false;
      const peer = (size: number): FillSource => {
        if (waited) this.event('from_peer');
        return fromStore(expected, size);
      };
      for (;;) {
        const stored = await this.blobs.stat(expected);
        if (stored) return peer(stored.size);
        const got = await this.leases.acquire(key);
        if ('lease' in got) {
          const { lease } = got;
          // The holder before us may have committed between our stat and our lease.
          const again = await this.blobs.stat(expected).catch(() => null);
          if (again) {
            await lease.release();
            return peer(again.size);
          }
          this.event(got.takeover ? 'takeover' : 'leased');
          try {
            return { ...(await start()), release: () => lease.release() };
          } catch (e) {
            await lease.release().catch(() => {});
            throw e;
          }
        }
        if (!waited) this.event('waited');
        waited = true;
        if (this.now() - began > this.maxWaitMs) {
          throw new RegistryError('unavailable', `another replica (${got.heldBy}) has been fetching ${expected.value} for too long`);
        }
        await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, got.until - this.now()))));
        pause = Math.min(POLL_MAX_MS, pause * 2);
      }
    };
  }
}
