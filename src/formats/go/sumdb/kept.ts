import type { AccessLog } from '../../../cache/access-log.ts';
import { RegistryError } from '../../../errors.ts';
import { readLimited } from '../../../http/streams.ts';
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

export interface KeptDeps {
  repo: string;
  db: string;
  client: UpstreamClient;
  blobs: BlobStore;
  meta: MetaStore;
  gcLock: RwLock;
  accessLog: AccessLog;
  idleTimeoutMs: number;
  now: () => number;
}

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

  constructor(private readonly d: KeptDeps) {}

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
    this.d.accessLog.touch(this.d.repo, d.digest.value);
    return { bytes, doc };
  }

  async keepFile(rel: string, bytes: Uint8Array, width?: number): Promise<void> {
    await this.d.gcLock.withShared(async () => {
      const b = await this.d.blobs.putBytes(bytes);
      const doc: GoFileDoc = { digest: b.digest.value, size: b.size, storedAt: this.d.now(), ...(width !== undefined ? { width } : {}) };
      await this.d.meta.put(this.key(rel), doc, { remember: false });
      this.d.accessLog.touch(this.d.repo, b.digest.value);
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

  /** One upstream GET of the database, its body up to maxBytes. 404 and 410 are "not found". */
  async get(path: string, maxBytes: number, what: string, via?: string): Promise<Uint8Array> {
    this.fetches++;
    const res = await this.d.client.request({ method: 'GET', path, scope: '', via });
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {});
      throw new RegistryError('not_found', `not found: ${path} (checksum database ${this.d.db} answered ${res.status})`, { code: 'NOT_FOUND', upstreamStatus: res.status });
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.client.host, what, 'NOT_FOUND');
    return readLimited(res.body, maxBytes, this.d.idleTimeoutMs, `${what} ${path}`);
  }
}
