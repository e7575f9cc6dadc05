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

  constructor(
    private readonly repo: string,
    private readonly meta: MetaStore,
    private readonly blobs: BlobStore,
    /** Journal entries after which a new snapshot is written. */
    private readonly every: number,
  ) {}

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
    const journal = (await this.meta.list(this.dir)).filter((g) => /^\d+$/.test(g));
    const last = journal.length > 0 ? Number(journal[journal.length - 1]) : 0;
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
    const newer = journal.filter((g) => Number(g) > snap.generation);
    for (const g of newer) {
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
    await this.meta.put(`${this.dir}/${String(this.generation).padStart(GEN_DIGITS, '0')}`, { name, version } satisfies JournalEntry, { remember: false });
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
    for (const g of await this.meta.list(this.dir)) if (/^\d+$/.test(g) && Number(g) <= generation) await this.meta.delete(`${this.dir}/${g}`);
  }
}
