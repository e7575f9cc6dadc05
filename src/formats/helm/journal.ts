import type { BlobStore } from '../../storage/blob-store.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { forEachLimit } from '../../util/pool.ts';
import { helmLayout } from './layout.ts';
import type { BlobRef, ChartDoc } from './layout.ts';

/** A hosted repo's index as of one generation: every chart document, in one blob. */
export interface SnapshotDoc {
  generation: number;
  data: BlobRef;
}

interface JournalEntry {
  name: string;
  version: string;
}

const GEN_DIGITS = 15;
/** `<generation>` or, on a shared store, `<generation>-<random>`: replicas counting alike never collide. */
const ENTRY = /^(\d+)(-[0-9a-f]+)?$/;
const genOf = (name: string): number => Number(ENTRY.exec(name)?.[1] ?? Number.NaN);

/**
 * Fast start-up for a hosted chart repo: a snapshot of all chart documents (one blob) plus a journal
 * of the chart versions changed since (`journal/<generation>`, written before the change itself).
 * Loading reads the snapshot and re-reads only the journaled versions' documents, which stay the
 * truth: an entry whose change never landed (a crash in between) just re-reads what is there.
 * Without a snapshot (a store from before, or a lost one) every document is read, as before.
 */
export class IndexJournal {
  private generation = 0;
  private snapshotAt = 0;
  /** Journal entries this process has applied (read at load or refresh, or written itself). */
  private applied = new Set<string>();

  constructor(
    private readonly repo: string,
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    /** Journal entries after which a new snapshot is written. */
    private readonly every: number,
    /** Other replicas write this journal too (a shared store): entry names get a random suffix. */
    private readonly shared = false,
  ) {}

  private async entries(): Promise<string[]> {
    return (await this.meta.list(this.dir)).filter((g) => ENTRY.test(g)).sort((a, b) => genOf(a) - genOf(b) || (a < b ? -1 : 1));
  }

  /**
   * Shared stores: the chart versions other replicas changed since this one last looked (each to be
   * read again from its document), or 'reload' when entries it had applied are gone (another
   * replica wrote a snapshot): then the index is loaded afresh. One listing when nothing changed.
   */
  async refresh(): Promise<Array<{ name: string; version: string }> | 'reload'> {
    const names = await this.entries();
    const present = new Set(names);
    for (const a of this.applied) if (!present.has(a)) return 'reload';
    const out: Array<{ name: string; version: string }> = [];
    for (const g of names) {
      if (this.applied.has(g)) continue;
      this.applied.add(g);
      this.generation = Math.max(this.generation, genOf(g));
      const e = await this.meta.get<JournalEntry>(`${this.dir}/${g}`, { remember: false });
      if (e) out.push(e);
    }
    return out;
  }

  private get dir(): string {
    return `${helmLayout.root(this.repo)}/journal`;
  }

  /** Every chart document, and whether a snapshot should be written now (there was none). */
  async load(): Promise<{ docs: Map<string, ChartDoc>; fresh: boolean }> {
    const docs = new Map<string, ChartDoc>();
    const keyOf = (name: string, version: string): string => helmLayout.chart(this.repo, name, version);
    const snap = await this.meta.get<SnapshotDoc>(helmLayout.snapshot(this.repo), { remember: false });
    const d = snap ? parseDigest(snap.data.digest) : null;
    const bytes = snap && d?.ok ? await this.blobs.readAll(d.digest, Number.MAX_SAFE_INTEGER).catch(() => null) : null;
    const journal = await this.entries();
    this.applied = new Set(journal);
    const last = journal.length > 0 ? genOf(journal[journal.length - 1] as string) : 0;
    if (!snap || !bytes) {
      const root = helmLayout.charts(this.repo);
      const keys: string[] = [];
      for (const n of await this.meta.list(root)) for (const v of await this.meta.list(`${root}/${n}`)) keys.push(`${root}/${n}/${v}`);
      // Every version's document, a few reads in flight at once.
      await forEachLimit(keys, 16, async (key) => {
        const doc = await this.meta.get<ChartDoc>(key, { remember: false });
        if (doc) docs.set(keyOf(doc.entry.name, doc.entry.version), doc);
      });
      this.generation = Math.max(last, snap?.generation ?? 0);
      return { docs, fresh: true };
    }
    for (const doc of JSON.parse(new TextDecoder().decode(bytes)) as ChartDoc[]) docs.set(keyOf(doc.entry.name, doc.entry.version), doc);
    // Every entry left is replayed, not only those after the snapshot's generation: on a shared store
    // a replica may journal a change at a generation another replica's snapshot already counted
    // (re-reading a document that the snapshot has is harmless: the documents are the truth).
    for (const g of journal) {
      const e = await this.meta.get<JournalEntry>(`${this.dir}/${g}`, { remember: false });
      if (!e) continue;
      const key = keyOf(e.name, e.version);
      const doc = await this.meta.get<ChartDoc>(key, { remember: false });
      if (doc) docs.set(key, doc);
      else docs.delete(key);
    }
    this.generation = Math.max(last, snap.generation);
    this.snapshotAt = snap.generation;
    return { docs, fresh: false };
  }

  /** Before a chart version's document changes: the journal names it. */
  async record(name: string, version: string): Promise<void> {
    this.generation++;
    const suffix = this.shared ? `-${crypto.randomUUID().slice(0, 8)}` : '';
    const entry = `${String(this.generation).padStart(GEN_DIGITS, '0')}${suffix}`;
    this.applied.add(entry);
    await this.meta.put(`${this.dir}/${entry}`, { name, version } satisfies JournalEntry, { remember: false });
  }

  /** Whether enough has changed since the last snapshot to write a new one. */
  due(): boolean {
    return this.generation - this.snapshotAt >= this.every;
  }

  /** Writes a snapshot of `docs` (the caller holds the gc lock) and drops the journal it covers. */
  async snapshot(docs: Iterable<ChartDoc>): Promise<void> {
    const generation = this.generation;
    const b = await this.blobs.putBytes(new TextEncoder().encode(JSON.stringify([...docs])));
    await this.meta.put(helmLayout.snapshot(this.repo), { generation, data: { digest: b.digest.value, size: b.size } } satisfies SnapshotDoc, { remember: false });
    this.snapshotAt = generation;
    // Only entries this process applied are covered by its snapshot (another replica's newer one stays).
    for (const g of await this.entries()) {
      if (!this.applied.has(g) || genOf(g) > generation) continue;
      await this.meta.delete(`${this.dir}/${g}`);
      this.applied.delete(g);
    }
  }
}
