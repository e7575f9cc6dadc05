import { Lru } from '../util/lru.ts';
import { RegistryError, fromStorageError, isRegistryError } from '../errors.ts';
import { hashHandle } from './blob-store.ts';
import type { BlobStore, StoredBlob } from './blob-store.ts';
import { Hasher } from './digest.ts';
import type { Digest } from './digest.ts';
import type { StorageDriver } from './driver.ts';
import { layout } from './layout.ts';
import type { MetaStore } from './meta-store.ts';

/**
 * An upload session: its repo, and what it belongs to within it (`scope`: a Docker image, a
 * package name; a format's own business). Sessions stored before the neutral name carry `image`.
 */
export interface UploadInfo {
  repo: string;
  scope: string;
  startedAt: number;
}

export interface UploadStatus {
  id: string;
  info: UploadInfo;
  /** Bytes received so far. */
  size: number;
}

/** An upload's running hash, valid while `offset` equals the data file's size. */
interface Running {
  hasher: Hasher;
  offset: number;
}

/** Hash states kept in memory (a few hundred bytes each); more sessions than this rehash at the end. */
const MAX_RUNNING_HASHES = 4096;

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Storage failures of a push name the operation the spec knows (507 stays 507: disk full). */
function uploadError(e: unknown): RegistryError {
  const err = fromStorageError(e, 'an upload');
  return new RegistryError(err.kind, err.message, { code: 'UPLOAD_INVALID', cause: e });
}

const unknown = (): RegistryError => new RegistryError('not_found', 'upload session unknown', { code: 'UPLOAD_UNKNOWN' });

/**
 * Push sessions, kept in storage (v1/uploads/<id>/{data,info}) so they survive a restart and could
 * be finished by another replica. The sha256 runs in memory as chunks arrive; after a restart (or
 * for a sha512 digest) the data file is hashed again at the end instead. One lock per session
 * serializes its requests, so chunks can never interleave.
 */
export class UploadSessions {
  /** Hash states of live sessions; past the bound the oldest are dropped and hashed again at the end. */
  private readonly running = new Lru<Running>(MAX_RUNNING_HASHES);
  /** Sessions this process started and that are still open: id → repo, and a count per repo. */
  private readonly openIds = new Map<string, string>();
  private readonly openPerRepo = new Map<string, number>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly driver: StorageDriver,
    private readonly blobs: BlobStore,
    private readonly meta: MetaStore,
    private readonly newId: () => string,
    private readonly now: () => number,
  ) {}

  async start(repo: string, scope: string): Promise<string> {
    const id = this.newId();
    const info: UploadInfo = { repo, scope, startedAt: this.now() };
    await this.meta.put(layout.uploadInfo(id), info);
    // The data file exists from the start: size 0 is a valid state to report.
    await (await this.driver.append(layout.uploadData(id))).close();
    this.running.set(id, { hasher: new Hasher('sha256'), offset: 0 });
    this.openIds.set(id, repo);
    this.openPerRepo.set(repo, (this.openPerRepo.get(repo) ?? 0) + 1);
    return id;
  }

  /** Sessions of a repo started by this process and not yet finished, cancelled or collected. */
  openIn(repo: string): number {
    return this.openPerRepo.get(repo) ?? 0;
  }

  private closed(id: string): void {
    const repo = this.openIds.get(id);
    if (repo === undefined) return;
    this.openIds.delete(id);
    const n = (this.openPerRepo.get(repo) ?? 1) - 1;
    if (n <= 0) this.openPerRepo.delete(repo);
    else this.openPerRepo.set(repo, n);
  }

  /** The session, if it exists and belongs to this repo and scope. */
  async status(id: string, repo: string, scope: string): Promise<UploadStatus> {
    if (!ID.test(id)) throw unknown();
    const info = await this.meta.get<UploadInfo>(layout.uploadInfo(id));
    const st = await this.driver.stat(layout.uploadData(id));
    if (info && info.scope === undefined) info.scope = (info as { image?: string }).image ?? '';
    if (!info || !st || info.repo !== repo || info.scope !== scope) throw unknown();
    return { id, info, size: st.size };
  }

  /**
   * Appends a chunk. `expectStart` (from Content-Range) must equal the current size, else the
   * chunk is out of order and nothing is written.
   */
  append(id: string, repo: string, scope: string, body: AsyncIterable<Uint8Array>, expectStart?: number, maxBytes?: number): Promise<UploadStatus> {
    return this.locked(id, async () => {
      const s = await this.status(id, repo, scope);
      if (expectStart !== undefined && expectStart !== s.size) {
        throw new RegistryError('range', `chunk starts at ${expectStart}, the upload has ${s.size} bytes`, {
          code: 'RANGE_INVALID',
          detail: { size: s.size },
        });
      }
      const run = this.runningFor(id, s.size);
      const out = await this.driver.append(layout.uploadData(id)).catch((e: unknown) => {
        throw uploadError(e);
      });
      let size = s.size;
      try {
        for await (const chunk of body) {
          size += chunk.byteLength;
          if (maxBytes !== undefined && size > maxBytes) {
            throw new RegistryError('too_large', `upload exceeds the limit of ${maxBytes} bytes`, { code: 'SIZE_INVALID' });
          }
          await out.write(chunk).catch((e: unknown) => {
            throw uploadError(e);
          });
          run?.hasher.update(chunk);
          if (run) run.offset += chunk.byteLength;
        }
      } catch (e) {
        // A chunk that did not arrive whole is taken back: the session stays where it was, so the
        // client can resume from the Range we report (and a full disk gets its space back).
        await out.close().catch(() => {});
        this.running.delete(id);
        await this.driver.truncate(layout.uploadData(id), s.size).catch(() => {});
        // A body that stalled or broke off is the push's failure, in the push's own code.
        if (isRegistryError(e) && e.kind === 'invalid' && e.code === undefined) throw new RegistryError('invalid', e.message, { code: 'UPLOAD_INVALID', cause: e });
        throw e;
      }
      await out.close();
      return { ...s, size };
    });
  }

  /**
   * Checks the whole upload against `digest` and moves it into the blob store. On a mismatch the
   * session stays (the client may retry the PUT with the right digest, or cancel).
   */
  finish(id: string, repo: string, scope: string, digest: Digest): Promise<StoredBlob> {
    return this.locked(id, async () => {
      const s = await this.status(id, repo, scope);
      const run = this.running.get(id);
      const got = digest.algorithm === 'sha256' && run && run.offset === s.size ? run.hasher.digest() : await this.rehash(id, digest);
      this.running.delete(id);
      if (got.value !== digest.value) {
        throw new RegistryError('invalid', `upload digest ${got.value} does not match ${digest.value}`, { code: 'DIGEST_INVALID' });
      }
      try {
        if (await this.blobs.stat(digest)) await this.driver.delete(layout.uploadData(id));
        else {
          await this.driver.move(layout.uploadData(id), layout.blob(digest));
          this.blobs.noteUsed(digest);
        }
        await this.meta.deleteTree(layout.upload(id));
      } catch (e) {
        throw uploadError(e);
      }
      this.closed(id);
      return { digest, size: s.size };
    });
  }

  cancel(id: string, repo: string, image: string): Promise<void> {
    return this.locked(id, async () => {
      await this.status(id, repo, image);
      this.running.delete(id);
      await this.meta.deleteTree(layout.upload(id));
      this.closed(id);
    });
  }

  /** Sessions in storage (for gc): id, info and last activity. */
  async list(): Promise<Array<{ id: string; info: UploadInfo | null; mtimeMs: number }>> {
    const out: Array<{ id: string; info: UploadInfo | null; mtimeMs: number }> = [];
    for (const id of await this.driver.list(layout.uploadsDir())) {
      if (!ID.test(id)) continue;
      const st = await this.driver.stat(layout.uploadData(id));
      const info = await this.meta.get<UploadInfo>(layout.uploadInfo(id));
      out.push({ id, info, mtimeMs: st?.mtimeMs ?? info?.startedAt ?? 0 });
    }
    return out;
  }

  /** Drops a session whatever its owner (gc of abandoned uploads). */
  async remove(id: string): Promise<void> {
    await this.locked(id, async () => {
      this.running.delete(id);
      await this.meta.deleteTree(layout.upload(id));
      this.closed(id);
    });
  }

  private runningFor(id: string, size: number): Running | undefined {
    const run = this.running.get(id);
    if (run && run.offset === size) return run;
    // After a restart (or an aborted append) the in-memory hash no longer matches: finish() rehashes.
    this.running.delete(id);
    return undefined;
  }

  private async rehash(id: string, digest: Digest): Promise<Digest> {
    const fh = await this.driver.open(layout.uploadData(id));
    if (!fh) throw unknown();
    return hashHandle(fh, digest.algorithm);
  }

  private locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.locks.set(id, tail);
    void tail.then(() => {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    });
    return next;
  }
}
