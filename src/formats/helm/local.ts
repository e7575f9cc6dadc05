import { RegistryError, isRegistryError } from '../../errors.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import { ChartInspector, badChart } from './chart.ts';
import { chartFile, newestFirst, renderChart, renderIndex, sortedNames } from './index-file.ts';
import type { Entries, IndexEntry, IndexFormat } from './index-file.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import { IndexJournal } from './journal.ts';
import { helmLayout } from './layout.ts';
import type { ChartDoc } from './layout.ts';
import { notFound, splitFile } from './reader.ts';
import type { HelmFile, HelmReader } from './reader.ts';

export interface HelmLocalDeps extends LocalRepoDeps {
  allowOverwrite: boolean;
  allowDelete: boolean;
  maxChartBytes: number;
  indexFormat: IndexFormat;
  /** Changes after which the index snapshot is written again (default 1000). */
  snapshotEvery?: number;
}

interface State {
  charts: Map<string, Map<string, ChartDoc>>;
  /** `<name>-<version>.tgz` → its chart and version (names and versions may hold dashes). */
  files: Map<string, { name: string; version: string }>;
  /** Each chart's rendered `entries:` block: an upload re-renders one chart, not the index. */
  fragments: Map<string, string>;
  rendered: { body: Uint8Array; etag: string } | null;
  generation: number;
  generated: string;
}

/** A provenance file is a clearsigned message of a few KB: the one cap for every way it arrives. */
export const MAX_PROV = 1 << 20;
const conflict = (name: string, version: string): RegistryError => new RegistryError('conflict', `${chartFile(name, version)} already exists`, { code: 'CHART_EXISTS' });

/**
 * A hosted chart repository (ChartMuseum's model): each chart version is a document naming its
 * archive (and provenance) blob and holding its index entry. The index lives in memory, loaded once
 * from those documents and changed per upload or delete; index.yaml is rendered from per-chart
 * fragments, so a change costs one chart's rendering, not the repository's.
 */
export class HelmLocal implements HelmReader {
  readonly type = 'local' as const;
  readonly name: string;
  readonly maxChartBytes: number;
  private state: Promise<State> | null = null;
  private syncing: Promise<unknown> = Promise.resolve();
  private commits: Promise<unknown> = Promise.resolve();
  private readonly journal: IndexJournal;

  constructor(private readonly d: HelmLocalDeps) {
    this.name = d.repo;
    this.maxChartBytes = d.maxChartBytes;
    this.journal = new IndexJournal(d.repo, d.meta, d.blobs, d.snapshotEvery ?? 1000, d.meta.shared);
  }

  get indexFormat(): IndexFormat {
    return this.d.indexFormat;
  }

  private load(): Promise<State> {
    this.state ??= (async () => {
      const s: State = { charts: new Map(), files: new Map(), fragments: new Map(), rendered: null, generation: 0, generated: new Date(this.d.now()).toISOString() };
      const { docs, fresh } = await this.journal.load();
      for (const doc of docs.values()) this.remember(s, doc);
      // Read the slow way (every document): leave a snapshot so the next start does not.
      if (fresh) await this.d.gcGate.withShared(() => this.journal.snapshot(docs.values()));
      return s;
    })();
    this.state.catch(() => (this.state = null));
    return this.state;
  }

  /**
   * The index as it is now. On a shared store other replicas change it too: one listing of the
   * journal per call finds their changes, and only the chart versions they name are read again
   * (or everything, after another replica's snapshot replaced the entries this one had applied).
   */
  private current(): Promise<State> {
    if (!this.d.meta.shared) return this.load();
    const run = this.syncing.then(async () => {
      const s = await this.load();
      const changed = await this.journal.refresh();
      if (changed !== 'reload') {
        for (const { name, version } of changed) {
          const doc = await this.d.meta.get<ChartDoc>(helmLayout.chart(this.name, name, version), { remember: false });
          if (doc) this.remember(s, doc);
          else this.forget(s, name, version);
        }
        return s;
      }
      this.state = null;
      return this.load();
    });
    this.syncing = run.catch(() => {});
    return run;
  }

  private forget(s: State, name: string, version: string): void {
    const versions = s.charts.get(name);
    if (!versions?.delete(version)) return;
    if (versions.size === 0) s.charts.delete(name);
    s.files.delete(chartFile(name, version));
    this.changed(s, name);
  }

  private *docs(s: State): Iterable<ChartDoc> {
    for (const versions of s.charts.values()) yield* versions.values();
  }

  private remember(s: State, doc: ChartDoc): void {
    const { name, version } = doc.entry;
    let versions = s.charts.get(name);
    if (!versions) s.charts.set(name, (versions = new Map()));
    versions.set(version, doc);
    s.files.set(chartFile(name, version), { name, version });
    this.changed(s, name);
  }

  private changed(s: State, name: string): void {
    s.fragments.delete(name);
    s.rendered = null;
    s.generation++;
    s.generated = new Date(this.d.now()).toISOString();
  }

  async entries(): Promise<{ entries: Entries; token: string }> {
    const s = await this.current();
    const entries: Entries = new Map();
    for (const [name, versions] of s.charts) entries.set(name, [...versions.values()].map((d) => d.entry).sort(newestFirst));
    return { entries, token: `${this.name}:${s.generation}` };
  }

  async indexFile(): Promise<HelmFile> {
    const s = await this.current();
    if (!s.rendered) {
      const charts = sortedNames(s.charts.keys()).map((n) => {
        let f = s.fragments.get(n);
        if (f === undefined) {
          f = renderChart(n, [...(s.charts.get(n)?.values() ?? [])].map((d) => d.entry).sort(newestFirst), this.d.indexFormat);
          s.fragments.set(n, f);
        }
        return f;
      });
      const body = new TextEncoder().encode(renderIndex(charts, this.d.indexFormat, s.generated));
      s.rendered = { body, etag: digestOf(body).hex };
    }
    return { kind: 'bytes', body: s.rendered.body, etag: s.rendered.etag, cache: 'LOCAL' };
  }

  async file(file: string): Promise<HelmFile> {
    const f = splitFile(file);
    const s = await this.current();
    const at = f ? s.files.get(f.archive) : undefined;
    const doc = at ? s.charts.get(at.name)?.get(at.version) : undefined;
    const ref = f?.prov ? doc?.prov : doc;
    const d = ref ? parseDigest(ref.digest) : null;
    if (!ref || !d?.ok) throw notFound(file);
    return { kind: 'blob', digest: d.digest, size: ref.size, cache: 'LOCAL' };
  }

  /** The entries of one chart (newest first), or of one version. */
  async chart(name: string, version?: string): Promise<IndexEntry[]> {
    const versions = (await this.current()).charts.get(name);
    const docs = version === undefined ? [...(versions?.values() ?? [])] : [versions?.get(version)].filter((x): x is ChartDoc => x !== undefined);
    if (docs.length === 0) throw notFound(version === undefined ? `chart ${name}` : `chart ${name} ${version}`);
    return docs.map((d) => d.entry).sort(newestFirst);
  }

  /**
   * Stores a chart archive: streamed into the blob store while its Chart.yaml is read out of it;
   * committed only when the archive checks out and the version is new (or overwriting is allowed).
   */
  async upload(body: AsyncIterable<Uint8Array>, fileName?: string, force = false): Promise<IndexEntry> {
    const w = await this.d.blobs.startWrite({ maxBytes: this.d.maxChartBytes });
    const inspector = new ChartInspector({ maxUnpackedBytes: Math.max(this.d.maxChartBytes * 10, 64 << 20), maxEntries: 10_000 });
    let meta;
    try {
      for await (const chunk of body) {
        await w.write(chunk);
        await inspector.write(chunk);
      }
      meta = await inspector.finish();
      w.verify();
    } catch (e) {
      inspector.abort();
      await w.abort();
      if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('too_large', `chart archive larger than ${this.d.maxChartBytes} bytes`, { code: 'TOO_LARGE' });
      throw e;
    }
    const { name, version } = meta;
    if (fileName !== undefined && fileName !== chartFile(name, version)) {
      await w.abort();
      throw badChart(`file name ${fileName} does not match the chart's name and version (${chartFile(name, version)})`);
    }
    return this.commit(async (s) => {
      const had = s.charts.get(name)?.get(version);
      if (had && !(this.d.allowOverwrite || force)) {
        await w.abort();
        throw conflict(name, version);
      }
      const stored = await w.finish();
      const entry: IndexEntry = { ...meta, urls: [`charts/${chartFile(name, version)}`], created: new Date(this.d.now()).toISOString(), digest: stored.digest.hex };
      const doc: ChartDoc = { entry, digest: stored.digest.value, size: stored.size, storedAt: this.d.now() };
      await this.journal.record(name, version);
      await this.d.meta.put(helmLayout.chart(this.name, name, version), doc, { remember: false });
      this.remember(s, doc);
      if (this.journal.due()) await this.journal.snapshot(this.docs(s));
      return entry;
    });
  }

  /**
   * Stores a provenance file for a chart already here: the file names the archive and its sha256
   * (`files:` in the signed part), which must be the stored archive's.
   */
  async uploadProv(bytes: Uint8Array, force = false): Promise<string> {
    if (bytes.byteLength > MAX_PROV) throw new RegistryError('too_large', `provenance file larger than ${MAX_PROV} bytes`, { code: 'TOO_LARGE' });
    const text = new TextDecoder().decode(bytes);
    const m = /^-----BEGIN PGP SIGNED MESSAGE-----[\s\S]*?\nfiles:\n\s+["']?([^\s"':]+\.tgz)["']?:\s*["']?sha256:([0-9a-f]{64})["']?\n[\s\S]*-----BEGIN PGP SIGNATURE-----/.exec(text);
    if (!m) throw new RegistryError('invalid', 'not a Helm provenance file (a clearsigned message naming the chart archive and its sha256)', { code: 'INVALID_PROVENANCE' });
    const file = m[1] ?? '';
    return this.commit(async (s) => {
      const at = s.files.get(file);
      const doc = at ? s.charts.get(at.name)?.get(at.version) : undefined;
      if (!at || !doc) throw notFound(`chart ${file} (upload the chart before its provenance file)`);
      if (doc.digest !== `sha256:${m[2] ?? ''}`) throw new RegistryError('invalid', `the provenance file's sha256 for ${file} is not the stored archive's`, { code: 'INVALID_PROVENANCE' });
      if (doc.prov && !(this.d.allowOverwrite || force)) throw new RegistryError('conflict', `${file}.prov already exists`, { code: 'PROV_EXISTS' });
      const b = await this.d.blobs.putBytes(bytes);
      const next: ChartDoc = { ...doc, prov: { digest: b.digest.value, size: b.size } };
      await this.journal.record(at.name, at.version);
      await this.d.meta.put(helmLayout.chart(this.name, at.name, at.version), next, { remember: false });
      s.charts.get(at.name)?.set(at.version, next);
      return `${file}.prov`;
    });
  }

  async delete(name: string, version: string): Promise<void> {
    if (!this.d.allowDelete) throw new RegistryError('unsupported', `deletes are disabled in repository ${this.name}`, { code: 'UNSUPPORTED' });
    await this.commit(async (s) => {
      const versions = s.charts.get(name);
      if (!versions?.has(version)) throw notFound(`chart ${name} ${version}`);
      await this.journal.record(name, version);
      await this.d.meta.delete(helmLayout.chart(this.name, name, version));
      this.forget(s, name, version);
      if (this.journal.due()) await this.journal.snapshot(this.docs(s));
    });
  }

  /** Changes one at a time, under the gc lock (a blob never lands without its document). */
  private commit<T>(fn: (s: State) => Promise<T>): Promise<T> {
    const run = this.commits.then(async () => {
      const s = await this.current();
      return this.d.gcGate.withShared(() => fn(s));
    });
    this.commits = run.catch(() => {});
    return run;
  }
}
