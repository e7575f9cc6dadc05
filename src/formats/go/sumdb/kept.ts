import type { AccessTimes } from '../../../cache/access-times.ts';
import { RegistryError } from '../../../errors.ts';
import { readLimited } from '../../../util/streams.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import { parseDigest } from '../../../storage/digest.ts';
import { encodeSegment } from '../../../storage/key-encoding.ts';
import type { MetaStore } from '../../../storage/meta-store.ts';
import type { UpstreamClient } from '../../../upstream/client.ts';
import { upstreamFailure } from '../../../upstream/errors.ts';
import type { RwLock } from '../../../util/rwlock.ts';
import { goLayout } from '../layout.ts';
import type { GoFileDoc } from '../layout.ts';
import { HASH_SIZE, TILE_WIDTH, tilePath } from './tlog.ts';
import type { TileRef } from './tlog.ts';
import type { TileSource } from './verify.ts';

/**
 * Where the database is asked, in order. A `proxy` source (a GOPROXY that may proxy the database at
 * `<proxy>/sumdb/<name>/`) is used only once its `supported` answers 200, as the go command does;
 * a 404 or 410 there, or any failure to reach it, moves on to the next source. A `database` source is
 * the database itself (it has no `supported`).
 */
export interface SumdbSource {
  kind: 'proxy' | 'database';
  client: UpstreamClient;
}

export interface KeptDeps {
  repo: string;
  db: string;
  sources: SumdbSource[];
  blobs: BlobStore;
  meta: MetaStore;
  gcGate: RwLock;
  accessTimes: AccessTimes;
  idleTimeoutMs: number;
  now: () => number;
}

/** How long a proxy source's `supported` answer is believed. */
const SUPPORTED_TTL_MS = 5 * 60_000;

/** A data tile of 256 records: sum.golang.org's records are a few hundred bytes each. */
const MAX_DATA_TILE = 4 << 20;

const folder = (level: number): string => (level < 0 ? 'data' : String(level));

/**
 * What a checksum database proxy keeps, under `_sumdb/<db>/`: `lookup/<module@version>` answers and
 * `tile/<L|data>/<K>` tiles (full: immutable) or `<K>.p` (the widest partial tile verified so far:
 * any prefix of it is what a narrower `.p/W` holds). Each is a blob named by a document, so gc,
 * eviction and fsck treat them like the module files beside them. Only verified bytes get here.
 */
export class KeptFiles implements TileSource {
  /** Upstream requests made, for the X-Cache header (MISS when a request caused one). */
  fetches = 0;
  /** Per proxy source: until when its `supported` answer holds, and what it was. */
  private readonly supported = new Map<SumdbSource, { until: number; yes: boolean }>();

  constructor(private readonly d: KeptDeps) {}

  /** The first source that serves the database, asking a proxy's `supported` when not known. */
  private async usable(source: SumdbSource, via?: string): Promise<boolean> {
    if (source.kind === 'database') return true;
    const known = this.supported.get(source);
    if (known && known.until > this.d.now()) return known.yes;
    let yes: boolean;
    try {
      this.fetches++;
      const res = await source.client.request({ method: 'GET', path: 'supported', scope: '', via });
      await res.body?.cancel().catch(() => {});
      yes = res.status === 200;
      // Only the protocol's "no" is remembered for long; a failing proxy is asked again next time.
      if (!yes && res.status !== 404 && res.status !== 410) return false;
    } catch {
      return false;
    }
    this.supported.set(source, { until: this.d.now() + SUPPORTED_TTL_MS, yes });
    return yes;
  }

  private key(rel: string): string {
    return `${goLayout.sumdb(this.d.repo, this.d.db)}/${rel}`;
  }

  private tileKey(level: number, index: number, full: boolean): string {
    return this.key(`tile/${folder(level)}/${index}${full ? '' : '.p'}`);
  }

  /** A kept file's bytes, or null (never kept, or its blob is gone). */
  async read(rel: string, maxBytes: number): Promise<{ bytes: Uint8Array; doc: GoFileDoc } | null> {
    const doc = await this.d.meta.get<GoFileDoc>(this.key(rel), { remember: false });
    const d = doc ? parseDigest(String(doc.digest)) : null;
    if (!doc || !d?.ok) return null;
    const bytes = await this.d.blobs.readAll(d.digest, maxBytes).catch(() => null);
    if (!bytes) return null;
    this.d.accessTimes.touch(this.d.repo, d.digest.value);
    return { bytes, doc };
  }

  async keepFile(rel: string, bytes: Uint8Array, width?: number): Promise<void> {
    await this.d.gcGate.withShared(async () => {
      const b = await this.d.blobs.putBytes(bytes);
      const doc: GoFileDoc = { digest: b.digest.value, size: b.size, storedAt: this.d.now(), ...(width !== undefined ? { width } : {}) };
      await this.d.meta.put(this.key(rel), doc, { remember: false });
      this.d.accessTimes.touch(this.d.repo, b.digest.value);
    });
  }

  /** `lookup/<escaped module, segment by segment>/_l/<escaped version>` (`_l` is no encoded segment: `_` encodes as `_5f`). */
  lookupPath(escModule: string, escVersion: string): string {
    return `lookup/${escModule.split('/').map(encodeSegment).join('/')}/_l/${encodeSegment(escVersion)}`;
  }

  async stored(level: number, index: number, width: number): Promise<Uint8Array | null> {
    const max = level < 0 ? MAX_DATA_TILE : TILE_WIDTH * HASH_SIZE;
    const full = await this.read(`tile/${folder(level)}/${index}`, max);
    if (full) return full.bytes;
    if (width >= TILE_WIDTH) return null;
    const part = await this.read(`tile/${folder(level)}/${index}.p`, max);
    return part && (part.doc.width ?? 0) >= width ? part.bytes : null;
  }

  async fetch(ref: TileRef): Promise<Uint8Array> {
    return this.get(tilePath(ref), ref.level < 0 ? MAX_DATA_TILE : ref.width * HASH_SIZE, 'checksum database tile');
  }

  async keep(ref: TileRef, bytes: Uint8Array): Promise<void> {
    const full = ref.width === TILE_WIDTH;
    if (!full) {
      const had = await this.d.meta.get<GoFileDoc>(this.tileKey(ref.level, ref.index, false), { remember: false });
      if ((had?.width ?? 0) >= ref.width) return;
    }
    await this.keepFile(`tile/${folder(ref.level)}/${ref.index}${full ? '' : '.p'}`, bytes, ref.width);
  }

  /**
   * One GET of the database from the first source that serves it, its body up to maxBytes. 404 and
   * 410 are "not found" (the database's answer: no other source is asked); a source that cannot be
   * reached or fails gives way to the next; when all fail, the first failure is thrown.
   */
  async get(path: string, maxBytes: number, what: string, via?: string): Promise<Uint8Array> {
    let first: unknown = null;
    for (const source of this.d.sources) {
      if (!(await this.usable(source, via))) continue;
      try {
        return await this.getFrom(source, path, maxBytes, what, via);
      } catch (e) {
        if (e instanceof RegistryError && e.kind === 'not_found') throw e;
        first ??= e;
      }
    }
    throw first ?? new RegistryError('unavailable', `no source serves checksum database ${this.d.db} (${this.d.sources.map((s) => s.client.host).join(', ')})`, { code: 'UNAVAILABLE' });
  }

  private async getFrom(source: SumdbSource, path: string, maxBytes: number, what: string, via?: string): Promise<Uint8Array> {
    this.fetches++;
    const res = await source.client.request({ method: 'GET', path, scope: '', via });
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError('not_found', `not found: ${path} (checksum database ${this.d.db} answered ${res.status} through ${source.client.host})`, { code: 'NOT_FOUND', upstreamStatus: res.status });
    }
    if (res.status !== 200) throw await upstreamFailure(res, source.client.host, what, 'NOT_FOUND');
    return readLimited(res.body, maxBytes, this.d.idleTimeoutMs, `${what} ${path}`);
  }
}
