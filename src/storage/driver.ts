/**
 * The storage port. Drivers move bytes under '/'-separated keys and know nothing about digests,
 * repos or formats. One conformance suite (test/storage/driver-suite.ts) runs against every driver.
 */
export interface FileInfo {
  size: number;
  mtimeMs: number;
}

/**
 * Random-access reader. On the fs driver it stays valid after the key is renamed or deleted (POSIX
 * semantics); on S3 a read after a delete fails. Nothing relies on more than the S3 behaviour for
 * committed keys: the reference barrier (gc-gate.ts) keeps blobs in use from being deleted, and a
 * reader of an in-flight write (a fill being tailed) reads a local spool on every driver.
 */
export interface ReadHandle {
  /** Reads up to `length` bytes at `position`; fewer (possibly zero) at end of file. */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A write to a temporary key, made visible only by commit (fsync + atomic rename). */
export interface WriteHandle {
  readonly tempKey: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Several chunks in one call, in order, without joining them first (a gathered write where the driver has one). */
  writev?(chunks: Uint8Array[]): Promise<void>;
  /**
   * Renames into `key`, replacing an existing file atomically; with durable (the default) flushes
   * to stable storage first, so a power cut can never leave a named file with missing bytes.
   */
  commit(key: string, durable?: boolean): Promise<void>;
  /** Drops the temporary data. Safe to call more than once and after a failed commit. */
  abort(): Promise<void>;
}

/** Appends to a key that stays where it is (upload sessions, which grow across requests). */
export interface AppendHandle {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Compare-and-swap on small objects: what leases between replicas are built on (lease.ts). */
export interface ConditionalOps {
  /** The bytes and a version tag (the ETag) of a key, or null. */
  readTagged(key: string, maxBytes: number): Promise<{ bytes: Uint8Array; tag: string } | null>;
  /** Writes only when the key does not exist: the new tag, or null when it existed. */
  createIfAbsent(key: string, data: Uint8Array): Promise<string | null>;
  /** Replaces only when the key still has this tag: the new tag, or null when it changed (or vanished). */
  replaceIfTag(key: string, data: Uint8Array, tag: string): Promise<string | null>;
}

export interface StorageDriver {
  /**
   * Other processes (replicas) read and write the same keys: documents cached in memory may be
   * stale, temp keys may belong to someone else's write in flight, and leases need `conditional`.
   */
  readonly shared?: boolean;
  readonly conditional?: ConditionalOps;
  /** Removes what writers killed mid-way left behind once older than olderThanMs (shared drivers). */
  sweep?(tempPrefix: string, olderThanMs: number, now: number): Promise<number>;
  stat(key: string): Promise<FileInfo | null>;
  open(key: string): Promise<ReadHandle | null>;
  /** Whole small file in one read; throws if it is larger than maxBytes. */
  readAll(key: string, maxBytes: number): Promise<Uint8Array | null>;
  /**
   * `target`: the key commit will most likely use (a blob whose digest is known up front). A driver
   * may write there directly, since nothing is visible before commit; commit to another key still works.
   */
  create(tempKey: string, target?: string): Promise<WriteHandle>;
  /** Small documents: write to a temp key, (fsync,) rename. */
  writeAtomic(key: string, data: Uint8Array, tempKey: string, durable?: boolean): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Removes a key and everything under it (upload sessions, emptied folders); false when absent. */
  deleteTree(prefix: string): Promise<boolean>;
  /** Opens a key for appending, creating it (and its folders) when absent. */
  append(key: string): Promise<AppendHandle>;
  /** Cuts a key back to `size` bytes (a failed chunk of an upload is taken back). */
  truncate(key: string, size: number): Promise<void>;
  /** Renames a key atomically, replacing the target; durable flushes the bytes first. */
  move(from: string, to: string, durable?: boolean): Promise<void>;
  /** Names of the direct children of a prefix (files and folders), sorted; [] when absent. */
  list(prefix: string): Promise<string[]>;
  /** A URL anyone may GET the key's bytes from until it expires (S3 presigned), when the driver has one. */
  presign?(key: string, expiresSeconds: number): Promise<string>;
  /** A real file path for the key, when the driver has one, so runtimes can send files natively. */
  localPath?(key: string): string;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;

/**
 * Keys are built by layout.ts from validated names, but every driver checks again: nothing from a
 * URL may ever reach a path unchecked, and this is the last place to stop it.
 */
export function assertSafeKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new Error(`unsafe storage key (length)`);
  for (const seg of key.split('/')) {
    // SEGMENT cannot start with '.', so '.' and '..' never pass.
    if (!SEGMENT.test(seg)) {
      throw new Error(`unsafe storage key segment ${JSON.stringify(seg)}`);
    }
  }
}
