import { Lru } from '../../util/lru.ts';
import { RegistryError } from '../../errors.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import { BlobDocs } from '../blob-doc.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import type { CachedFile } from '../remote-file.ts';
import { SEGMENT, badPackage, fileVersion, poolPrefix, renderStanza } from './control.ts';
import type { Stanza } from './control.ts';
import { DebInspector } from './deb.ts';
import { debLayout } from './layout.ts';
import type { DebEntry, SuiteRecord } from './layout.ts';
import { notFound } from './reader.ts';
import type { DebReader, MemberIndex, SuiteFile } from './reader.ts';
import { RepoKey } from './repo-key.ts';
import { SuitePublisher, buildSuite } from './suite-gen.ts';
import type { Generation, IndexItem, SuiteShape } from './suite-gen.ts';
import { suiteFileOf } from './suite-files.ts';
import { compareVersions } from './version.ts';

export interface DebLocalDeps extends LocalRepoDeps, SuiteShape {
  maxDebBytes: number;
  maxControlBytes: number;
  keepVersions: number;
}

const MAX_SUITES = 200;

const asRecord = (j: unknown): SuiteRecord | null => {
  const r = j as Partial<SuiteRecord> | null;
  return r && typeof r.suite === 'string' && Array.isArray(r.packages) && typeof r.changed === 'number' ? (r as SuiteRecord) : null;
};

/** A package's full index stanza: Package first, then its control fields, then where the file is and its hash. */
export function indexStanza(e: DebEntry): Stanza {
  const rest = e.stanza.filter(([k]) => k.toLowerCase() !== 'package');
  return [['Package', e.name], ...rest, ['Filename', e.filename], ['Size', String(e.deb.size)], ['SHA256', e.deb.digest.replace(/^sha256:/, '')]];
}

export function checkSegment(what: string, s: string): string {
  if (!SEGMENT.test(s)) throw badPackage(`"${s.slice(0, 64)}" is not a valid ${what} name`);
  return s;
}

/**
 * A hosted apt repository. Each suite is a set of records, sharded by package name (kit BlobDocs:
 * compare-and-swap, so concurrent uploads of one process or of replicas lose nothing), listing its
 * packages and their .deb blobs.
 * A suite's indexes, Release, InRelease and Release.gpg are generated from one record snapshot,
 * once per change, signed with the repo's key: a client always sees one consistent generation.
 */
export class DebLocal implements DebReader {
  readonly type = 'local' as const;
  readonly name: string;
  readonly key: RepoKey;
  private readonly docs: BlobDocs<SuiteRecord>;
  private readonly publisher: SuitePublisher;
  private readonly pools = new Lru<Map<string, DebEntry>>(500, 64 << 20, (m) => m.size * 600);
  private readonly snapshots = new Lru<SuiteRecord>(50, 64 << 20, (r) => r.packages.length * 1500);

  constructor(private readonly d: DebLocalDeps) {
    this.name = d.repo;
    this.docs = new BlobDocs<SuiteRecord>(d.meta, d.blobs, { maxBytes: 64 << 20, parse: asRecord, what: 'suite record', now: d.now });
    this.key = new RepoKey(d.repo, d.meta, d.now);
    this.publisher = new SuitePublisher({ repo: d.repo, meta: d.meta, blobs: d.blobs, gcGate: d.gcGate, key: this.key, now: d.now });
  }

  async suites(): Promise<string[]> {
    return (await this.d.meta.list(debLayout.suites(this.name))).map(decodeSegment);
  }

  /** Each suite is kept in shards by package name: an upload rewrites 1/64 of the suite, not all of it. */
  private shardKey(suite: string, name: string): string {
    const h = digestOf(new TextEncoder().encode(name)).hex;
    return `${debLayout.suite(this.name, suite)}/${((parseInt(h.slice(0, 2), 16) & 0x3f) >>> 0).toString(16).padStart(2, '0')}`;
  }

  /** The suite as one snapshot of its shards: every package, the latest change, and a digest naming exactly this content. */
  async record(suite: string): Promise<{ value: SuiteRecord; digest: string } | null> {
    const base = debLayout.suite(this.name, suite);
    const shards = (await this.d.meta.list(base)).sort();
    const parts: Array<{ value: SuiteRecord; digest: string }> = [];
    for (const k of shards) {
      const r = await this.docs.load(`${base}/${k}`);
      if (r) parts.push({ value: r.value, digest: r.doc.blob.digest });
    }
    if (parts.length === 0) return null;
    const digest = parts.length === 1 ? (parts[0]?.digest ?? '') : digestOf(new TextEncoder().encode(parts.map((p) => p.digest).join(','))).value;
    const hit = this.snapshots.get(digest);
    if (hit) return { value: hit, digest };
    const value: SuiteRecord = { suite, packages: parts.flatMap((p) => p.value.packages), changed: Math.max(...parts.map((p) => p.value.changed)) };
    this.snapshots.set(digest, value);
    return { value, digest };
  }

  private async generation(suite: string): Promise<Generation> {
    const r = await this.record(suite);
    if (!r) throw notFound(`suite ${suite} in ${this.name} (nothing uploaded to it yet)`);
    const modified = r.value.changed;
    return this.publisher.generation(suite, r.digest, modified, () => buildSuite(this.name, suite, this.d, r.value.packages.map(itemOf), modified));
  }

  async suiteFile(suite: string, path: string): Promise<SuiteFile> {
    const g = await this.generation(suite);
    return suiteFileOf(g, path, suite, (hex) => this.publisher.byHash(suite, hex, g), 'LOCAL');
  }

  async pool(path: string): Promise<CachedFile> {
    for (const suite of await this.suites()) {
      const e = (await this.poolOf(suite))?.get(path);
      const dg = e ? parseDigest(e.deb.digest) : null;
      if (e && dg?.ok) return { kind: 'blob', digest: dg.digest, size: e.deb.size, cache: 'LOCAL' };
    }
    throw notFound(`${path} in ${this.name}`);
  }

  private async poolOf(suite: string): Promise<Map<string, DebEntry> | null> {
    const r = await this.record(suite);
    if (!r) return null;
    let m = this.pools.get(r.digest);
    if (!m) {
      m = new Map(r.value.packages.map((p) => [p.filename, p]));
      this.pools.set(r.digest, m);
    }
    return m;
  }

  async index(suite: string, component: string, arch: string): Promise<MemberIndex | null> {
    const r = await this.record(suite);
    if (!r) return null;
    return { gen: r.digest, stanzas: async () => r.value.packages.filter((p) => p.component === component && (p.arch === arch || p.arch === 'all')).map(indexStanza) };
  }

  async shape(): Promise<{ components: string[]; architectures: string[] }> {
    return { components: this.d.components, architectures: this.d.architectures };
  }

  async hosts(suite: string): Promise<Set<string>> {
    return new Set((await this.record(suite))?.value.packages.map((p) => p.name) ?? []);
  }

  /** An upload: the .deb streamed into the store while its control file is read, then added to the suite. */
  async upload(suite: string, component: string, body: AsyncIterable<Uint8Array>, length: number | undefined, by: string | null): Promise<{ entry: DebEntry; replaced: boolean; existed: boolean }> {
    checkSegment('suite', suite);
    checkSegment('component', component);
    if (!this.d.components.includes(component)) throw badPackage(`component ${component} is not one of this repository's (${this.d.components.join(', ')})`);
    if (length !== undefined && length > this.d.maxDebBytes) throw new RegistryError('too_large', `the package is ${length} bytes; this repository takes at most ${this.d.maxDebBytes}`, { code: 'TOO_LARGE' });
    const suites = await this.suites();
    if (!suites.includes(suite) && suites.length >= MAX_SUITES) throw badPackage(`this repository has ${MAX_SUITES} suites already`);
    const inspector = new DebInspector({ maxControlBytes: this.d.maxControlBytes, maxControlFileBytes: 1 << 20 });
    const w = await this.d.blobs.startWrite({ maxBytes: this.d.maxDebBytes, ...(length !== undefined ? { expectedSize: length } : {}) });
    let control: Awaited<ReturnType<DebInspector['finish']>>;
    try {
      for await (const chunk of body) {
        inspector.write(chunk);
        await w.write(chunk);
      }
      control = await inspector.finish();
      w.verify();
    } catch (e) {
      await w.abort();
      throw e;
    }
    const c = control;
    if (c.arch !== 'all' && !this.d.architectures.includes(c.arch)) {
      await w.abort();
      throw badPackage(`architecture ${c.arch} is not one of this repository's (${this.d.architectures.join(', ')}, all)`);
    }
    const filename = `pool/${component}/${poolPrefix(c.source)}/${c.source}/${c.name}_${fileVersion(c.version)}_${c.arch}.deb`;
    return this.d.gcGate.withShared(async () => {
      const stored = await w.finish();
      const digest = stored.digest.value;
      // One pool path holds one file, whichever suite lists it.
      for (const other of suites.filter((s) => s !== suite)) {
        const e = (await this.poolOf(other))?.get(filename);
        if (e && e.deb.digest !== digest) throw new RegistryError('conflict', `${filename} is already in suite ${other} with other contents`, { code: 'EXISTS' });
      }
      const entry: DebEntry = { component, name: c.name, version: c.version, arch: c.arch, source: c.source, stanza: c.stanza, filename, deb: { digest, size: stored.size }, at: this.d.now(), by };
      let replaced = false;
      let existed = false;
      await this.docs.change(this.shardKey(suite, c.name), (cur) => {
        const rec: SuiteRecord = cur ?? { suite, packages: [], changed: 0 };
        const had = rec.packages.find((p) => p.name === c.name && p.version === c.version && p.arch === c.arch);
        if (had && had.deb.digest !== digest) throw new RegistryError('conflict', `${c.name} ${c.version} (${c.arch}) is already in suite ${suite} with other contents; delete it first`, { code: 'EXISTS' });
        existed = had !== undefined && had.component === component;
        if (existed) return rec;
        replaced = had !== undefined;
        rec.packages = rec.packages.filter((p) => p !== had);
        rec.packages.push(entry);
        if (this.d.keepVersions > 0) rec.packages = retain(rec.packages, this.d.keepVersions);
        rec.changed = this.d.now();
        return rec;
      });
      this.d.log.info('deb uploaded', { repo: this.name, suite, package: c.name, version: c.version, arch: c.arch, user: by ?? '' });
      return { entry, replaced, existed };
    });
  }

  /** Removes a version (of every architecture, or one; every version when none is named) from a suite; its pool file goes with the last suite listing it. */
  async remove(suite: string, name: string, version: string | undefined, arch: string | undefined): Promise<number> {
    let removed = 0;
    await this.d.gcGate.withShared(() =>
      this.docs.change(this.shardKey(suite, name), (cur) => {
        if (!cur) throw notFound(`suite ${suite} in ${this.name}`);
        const keep = cur.packages.filter((p) => !(p.name === name && (version === undefined || p.version === version) && (arch === undefined || p.arch === arch)));
        removed = cur.packages.length - keep.length;
        if (removed === 0) throw notFound(`${name} ${version ?? ''}${arch ? ` (${arch})` : ''} in suite ${suite} of ${this.name}`);
        return keep.length === 0 ? null : { ...cur, packages: keep, changed: this.d.now() };
      }),
    );
    return removed;
  }
}

function itemOf(e: DebEntry): IndexItem {
  return { component: e.component, arch: e.arch, name: e.name, version: e.version, text: renderStanza(indexStanza(e)) };
}

/** The newest `keep` versions of each package and architecture. */
function retain(pkgs: DebEntry[], keep: number): DebEntry[] {
  const groups = new Map<string, DebEntry[]>();
  for (const p of pkgs) {
    const k = `${p.component}\0${p.name}\0${p.arch}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const kept = new Set<DebEntry>();
  for (const g of groups.values()) for (const p of g.sort((a, b) => compareVersions(b.version, a.version)).slice(0, keep)) kept.add(p);
  return pkgs.filter((p) => kept.has(p));
}
