import { fromStorageError } from '../errors.ts';
import type { StorageDriver } from './driver.ts';
import { layout } from './layout.ts';

const MAX_DOC_BYTES = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Small JSON documents (tags, links) replaced atomically. A document that fails to parse (a torn
 * write can't happen with rename, but a hand-edited or foreign file can) reads as absent.
 */
export class MetaStore {
  constructor(
    private readonly driver: StorageDriver,
    private readonly newId: () => string,
  ) {}

  async get<T>(key: string): Promise<T | null> {
    const bytes = await this.driver.readAll(key, MAX_DOC_BYTES);
    if (!bytes) return null;
    try {
      return JSON.parse(decoder.decode(bytes)) as T;
    } catch {
      return null;
    }
  }

  async put(key: string, doc: unknown): Promise<void> {
    try {
      // No fsync: a doc torn by a power cut fails to parse and reads as absent (we refetch), while
      // an fsync per tag/link doc would sit on the critical path of every cold pull.
      await this.driver.writeAtomic(key, encoder.encode(JSON.stringify(doc)), layout.temp(this.newId()), false);
    } catch (e) {
      throw fromStorageError(e, key);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.driver.stat(key)) !== null;
  }

  delete(key: string): Promise<boolean> {
    return this.driver.delete(key);
  }

  list(prefix: string): Promise<string[]> {
    return this.driver.list(prefix);
  }
}
