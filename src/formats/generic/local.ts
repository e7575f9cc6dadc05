import { RegistryError, isRegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { RetentionSummary } from '../format.ts';
import { listFolder, notFound, storedFile, walkFiles } from './files.ts';
import type { FileResult, GenericReader, GenericWriter, ListPage, ListResult, PutOptions } from './files.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import { genericLayout } from './paths.ts';
import type { FileDoc } from './paths.ts';

export interface GenericLocalDeps extends LocalRepoDeps {
  allowOverwrite: boolean;
  allowDelete: boolean;
  maxFileBytes: number;
  /** Storage quota (distinct content, each counted once); 0 = none. */
  maxBytes: number;
  retentionDays: number;
}

const DAY_MS = 86_400_000;

/**
 * A hosted generic repo (Artifactory's "generic", Nexus's "raw"): files by path, uploaded with PUT,
 * each stored once by its sha256 (computed while the body streams, checked against the client's
 * X-Checksum-Sha256 when it sends one). Nothing is visible before the whole file is verified.
 */
export class GenericLocal implements GenericReader, GenericWriter {
  readonly type = 'local' as const;
  readonly name: string;
  /** Quota usage: digest → size of the distinct content the repo holds; counted on first use. */
  private held: Map<string, number> | null = null;

  constructor(private readonly d: GenericLocalDeps) {
    this.name = d.repo;
  }

  async get(path: string[]): Promise<FileResult> {
    const f = await storedFile(this.d.meta, this.d.blobs, this.name, path);
    if (!f) throw notFound(path);
    return { source: 'store', doc: f.doc, digest: f.digest, cache: 'LOCAL' };
  }

  list(path: string[], page?: ListPage): Promise<ListResult> {
    return listFolder(this.d.meta, this.name, path, page);
  }

  async put(path: string[], body: AsyncIterable<Uint8Array>, opts: PutOptions): Promise<{ doc: FileDoc; replaced: boolean }> {
    if (path.length === 0) throw new RegistryError('invalid', 'a file path is needed', { code: 'PATH_INVALID' });
    const key = genericLayout.file(this.name, path);
    const existed = await this.d.meta.exists(key);
    if (existed && !this.d.allowOverwrite) throw this.exists(path);
    let expected;
    if (opts.sha256 !== undefined) {
      const p = parseDigest(`sha256:${opts.sha256.trim().toLowerCase()}`);
      if (!p.ok) throw new RegistryError('invalid', 'X-Checksum-Sha256 is not a sha256 hex digest', { code: 'CHECKSUM_INVALID' });
      expected = p.digest;
    }
    const room = this.d.maxBytes > 0 ? this.d.maxBytes - (await this.usage()) : Number.POSITIVE_INFINITY;
    const limit = Math.min(this.d.maxFileBytes, room);
    const w = await this.d.blobs.startWrite({ ...(expected ? { expectedDigest: expected } : {}), maxBytes: Math.max(0, limit) });
    try {
      for await (const chunk of body) await w.write(chunk);
      w.verify();
    } catch (e) {
      await w.abort();
      if (isRegistryError(e) && e.kind === 'too_large') {
        throw limit === this.d.maxFileBytes
          ? new RegistryError('too_large', `file larger than maxFileBytes (${this.d.maxFileBytes} bytes)`, { code: 'TOO_LARGE' })
          : new RegistryError('denied', `storage quota of repository ${this.name} exceeded (${this.d.maxBytes} bytes)`, { code: 'QUOTA_EXCEEDED' });
      }
      if (isRegistryError(e) && e.code === 'DIGEST_INVALID') throw new RegistryError('invalid', `checksum mismatch: ${e.message}`, { code: 'CHECKSUM_MISMATCH' });
      throw e;
    }
    // Commit and document under the gc lock: gc cannot run between the blob landing and its reference.
    return this.d.gcGate.withShared(async () => {
      if (!this.d.allowOverwrite && (await this.d.meta.exists(key))) {
        await w.abort();
        throw this.exists(path);
      }
      const stored = await w.finish();
      const doc: FileDoc = { digest: stored.digest.value, size: stored.size, contentType: opts.contentType, storedAt: this.d.now() };
      await this.d.meta.put(key, doc);
      this.held?.set(stored.digest.value, stored.size);
      return { doc, replaced: existed };
    });
  }

  async delete(path: string[]): Promise<void> {
    if (!this.d.allowDelete) throw new RegistryError('unsupported', `deletes are disabled in repository ${this.name}`, { code: 'UNSUPPORTED' });
    if (path.length === 0 || !(await this.d.meta.delete(genericLayout.file(this.name, path)))) throw notFound(path);
    this.held = null;
  }

  /** Files not written for `retentionDays` go (their bytes with the next gc). */
  async retain(now: number, dryRun: boolean): Promise<RetentionSummary[]> {
    if (this.d.retentionDays <= 0) return [];
    const old: Array<{ path: string; key: string }> = [];
    await walkFiles(this.d.meta, this.name, async (path, doc, key) => {
      if (now - doc.storedAt > this.d.retentionDays * DAY_MS) old.push({ path: path.join('/'), key });
    });
    if (!dryRun) for (const f of old) await this.d.meta.delete(f.key);
    if (!dryRun) this.held = null;
    return old.length > 0 ? [{ repo: this.name, removed: old.length, deletedFiles: old.map((f) => f.path) } as RetentionSummary] : [];
  }

  usageChanged(): void {
    this.held = null;
  }

  private async usage(): Promise<number> {
    if (!this.held) {
      const held = new Map<string, number>();
      await walkFiles(this.d.meta, this.name, async (_path, doc) => void held.set(String(doc.digest), doc.size));
      this.held = held;
    }
    let total = 0;
    for (const size of this.held.values()) total += size;
    return total;
  }

  private exists(path: string[]): RegistryError {
    return new RegistryError('conflict', `/${path.join('/')} exists and repository ${this.name} does not allow overwrites`, { code: 'EXISTS' });
  }
}
