import { Lru } from '../../util/lru.ts';
import { RegistryError } from '../../errors.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { BlobDocs } from '../blob-doc.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import type { CachedFile } from '../remote-file.ts';
import { TgzInspector } from '../tgz-inspect.ts';
import { PublishFrame } from './frame.ts';
import { entryOf, infoOf, parseEntry, parsePublish, renderIndex } from './index-entry.ts';
import type { IndexEntry, PublishMeta } from './index-entry.ts';
import { cargoLayout } from './layout.ts';
import type { CrateRecord } from './layout.ts';
import { checkManifest } from './manifest.ts';
import { badCrate, canonicalName, checkName, sameVersion } from './names.ts';
import { notFound } from './reader.ts';
import type { CargoReader, IndexAnswer, SearchHit } from './reader.ts';

export interface CargoLocalDeps extends LocalRepoDeps {
  maxCrateBytes: number;
  maxMetadataBytes: number;
}

/** Who asks for a change: the user (null without auth) and whether they are an admin. */
export interface Actor {
  user: string | null;
  admin: boolean;
}

const asRecord = (j: unknown): CrateRecord | null => {
  const r = j as Partial<CrateRecord> | null;
  return r && typeof r.name === 'string' && Array.isArray(r.versions) && Array.isArray(r.owners) ? (r as CrateRecord) : null;
};

/**
 * A hosted Cargo registry. Each crate is one record (kit BlobDocs: changed by compare-and-swap, so
 * concurrent publishes of one process or of replicas lose nothing) holding its index lines, owners
 * and the .crate blob of each version. The index file is rendered from the record, once per
 * change; a publish is visible in it as soon as `cargo publish` gets its answer.
 */
export class CargoLocal implements CargoReader {
  readonly type = 'local' as const;
  readonly name: string;
  private readonly docs: BlobDocs<CrateRecord>;
  private readonly rendered = new Lru<{ bytes: Uint8Array; entries: IndexEntry[]; modified: number }>(2000, 64 << 20, (r) => r.bytes.byteLength * 2);

  constructor(private readonly d: CargoLocalDeps) {
    this.name = d.repo;
    this.docs = new BlobDocs<CrateRecord>(d.meta, d.blobs, { maxBytes: 16 << 20, parse: asRecord, what: 'crate record', now: d.now });
  }

  private key(name: string): string {
    return cargoLayout.crate(this.name, canonicalName(name));
  }

  /** The record of a crate by its lower-cased name (null when none, or when the crate here is spelled another way). */
  async record(lower: string): Promise<{ value: CrateRecord; digest: string } | null> {
    const r = await this.docs.load(this.key(lower));
    if (!r || r.value.name.toLowerCase() !== lower.toLowerCase() || r.value.versions.length === 0) return null;
    return { value: r.value, digest: r.doc.blob.digest };
  }

  async hosts(lower: string): Promise<boolean> {
    return (await this.record(lower)) !== null;
  }

  async index(lower: string): Promise<IndexAnswer> {
    const r = await this.record(lower);
    if (!r) throw notFound(`crate ${lower} in ${this.name}`);
    // Rendered once per change of the record (its digest), not per request: cargo asks on every build.
    let hit = this.rendered.get(r.digest);
    if (!hit) {
      const entries = r.value.versions.map((v) => v.entry);
      hit = { bytes: renderIndex(entries), entries, modified: Math.max(...r.value.versions.map((v) => v.at)) };
      this.rendered.set(r.digest, hit);
    }
    const { bytes, entries, modified } = hit;
    return { bytes, etag: r.digest.slice(7, 39), modified, cache: 'LOCAL', entries: () => entries };
  }

  async crate(name: string, vers: string): Promise<CachedFile> {
    const r = await this.record(name.toLowerCase());
    if (!r) throw notFound(`crate ${name} in ${this.name}`);
    const ref = r.value.versions.find((v) => v.entry.vers === vers)?.crate;
    const dg = ref ? parseDigest(ref.digest) : null;
    if (!ref || !dg?.ok) throw notFound(`crate ${name} ${vers} in ${this.name}`);
    return { kind: 'blob', digest: dg.digest, size: ref.size, cache: 'LOCAL' };
  }

  async names(max: number): Promise<string[]> {
    const keys = (await this.d.meta.list(cargoLayout.crates(this.name))).slice(0, max);
    const out: string[] = [];
    for (const k of keys) {
      const r = await this.docs.load(`${cargoLayout.crates(this.name)}/${k}`);
      out.push(r?.value.name.toLowerCase() ?? decodeSegment(k));
    }
    return out;
  }

  async search(q: string, max: number): Promise<SearchHit[]> {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    const hits: SearchHit[] = [];
    for (const lower of await this.names(10_000)) {
      if (hits.length >= max) break;
      const r = await this.record(lower);
      const last = r?.value.versions.filter((v) => !v.entry.yanked).pop() ?? r?.value.versions[r.value.versions.length - 1];
      if (!r || !last) continue;
      const hay = `${r.value.name} ${last.info.description ?? ''} ${(last.info.keywords ?? []).join(' ')}`.toLowerCase();
      if (words.every((w) => hay.includes(w))) hits.push({ name: r.value.name, max_version: last.entry.vers, description: last.info.description ?? '' });
    }
    return hits;
  }

  /** `cargo publish`: the frame read as it arrives, the crate streamed into the store and checked against its metadata, then the version added. */
  async publish(body: AsyncIterable<Uint8Array>, who: Actor): Promise<{ entry: IndexEntry; size: number }> {
    const frame = new PublishFrame(body);
    let w;
    const inspector = this.inspector();
    let meta: PublishMeta;
    try {
      meta = parsePublish(await frame.json(this.d.maxMetadataBytes));
      const n = await frame.crateLength(this.d.maxCrateBytes, (size) => new RegistryError('too_large', `the crate is ${size} bytes; this registry takes at most ${this.d.maxCrateBytes}`, { code: 'TOO_LARGE' }));
      // Refused before the crate is read when it can be told already (an existing version, not an owner).
      await this.docs.load(this.key(meta.name)).then((r) => r && this.admissible(r.value, meta, who));
      w = await this.d.blobs.startWrite({ expectedSize: n, maxBytes: n });
      for await (const chunk of frame.crate(n)) {
        await w.write(chunk);
        await inspector.write(chunk);
      }
      await frame.end();
      checkManifest(await inspector.finish(), meta);
      w.verify();
    } catch (e) {
      inspector.abort();
      await w?.abort();
      await frame.cancel();
      throw e;
    }
    const writer = w;
    return this.d.gcGate.withShared(async () => {
      const stored = await writer.finish();
      const entry = entryOf(meta, stored.digest.hex, this.d.now());
      await this.docs.change(this.key(meta.name), (cur) => {
        const rec: CrateRecord = cur ?? { name: meta.name, owners: who.user ? [who.user] : [], versions: [] };
        this.admissible(rec, meta, who);
        rec.versions.push({ entry, crate: { digest: stored.digest.value, size: stored.size }, at: this.d.now(), by: who.user, info: infoOf(meta) });
        return rec;
      });
      this.d.log.info('crate published', { repo: this.name, crate: meta.name, version: meta.vers, user: who.user ?? '' });
      return { entry, size: stored.size };
    });
  }

  /**
   * A version from a bundle (CLI import): its crate already stored and verified by digest, read
   * again as a publish's is (one top folder, its Cargo.toml naming the same); true when added,
   * false when the same bytes were there already.
   */
  async importVersion(json: unknown, blob: { digest: Digest; size: number }, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    const entry = parseEntry(json);
    if (blob.digest.algorithm !== 'sha256' || blob.digest.hex !== entry.cksum) throw badCrate(`the crate of ${entry.name} ${entry.vers} does not match its index line's cksum`);
    const inspector = this.inspector();
    try {
      for await (const c of chunks) await inspector.write(c);
      checkManifest(await inspector.finish(), { name: entry.name, vers: entry.vers });
    } catch (e) {
      inspector.abort();
      throw e;
    }
    let added = false;
    await this.d.gcGate.withShared(() =>
      this.docs.change(this.key(entry.name), (cur) => {
        const rec: CrateRecord = cur ?? { name: entry.name, owners: [], versions: [] };
        if (rec.versions.length > 0 && rec.name !== entry.name) throw badCrate(`crate "${entry.name}" would clash with "${rec.name}", already here`);
        const had = rec.versions.find((x) => sameVersion(x.entry.vers, entry.vers));
        added = !had;
        if (had && had.entry.cksum !== entry.cksum) throw new RegistryError('conflict', `crate version \`${entry.name}@${had.entry.vers}\` is already here with other bytes`, { code: 'EXISTS' });
        if (!had) rec.versions.push({ entry, crate: { digest: blob.digest.value, size: blob.size }, at: this.d.now(), by: null, info: {} });
        return rec;
      }),
    );
    return added;
  }

  private inspector(): TgzInspector {
    return new TgzInspector({ maxUnpackedBytes: Math.max(this.d.maxCrateBytes * 20, 64 << 20), maxEntries: 20_000 }, { file: 'Cargo.toml', maxBytes: 1 << 20, what: 'crate' }, badCrate);
  }

  /** Throws unless `who` may add this version to the crate. */
  private admissible(rec: CrateRecord, meta: PublishMeta, who: Actor): void {
    if (rec.versions.length > 0 && rec.name !== meta.name) throw badCrate(`crate "${meta.name}" would clash with "${rec.name}", already here (names differ only in case or "-"/"_")`);
    this.mayManage(rec, who);
    const had = rec.versions.find((v) => sameVersion(v.entry.vers, meta.vers));
    if (had) throw new RegistryError('conflict', `crate version \`${meta.name}@${had.entry.vers}\` is already uploaded`, { code: 'EXISTS' });
  }

  private mayManage(rec: CrateRecord, who: Actor): void {
    if (who.admin || rec.owners.length === 0 || (who.user !== null && rec.owners.includes(who.user))) return;
    throw new RegistryError('denied', `this crate exists but you are not an owner (owners: ${rec.owners.join(', ')})`);
  }

  /** `cargo yank` / `cargo yank --undo`: the version stays downloadable (lock files keep working); new resolutions skip it. */
  async setYanked(name: string, vers: string, yanked: boolean, who: Actor): Promise<void> {
    await this.change(name, who, (rec) => {
      const v = rec.versions.find((x) => x.entry.vers === vers);
      if (!v) throw notFound(`crate ${name} ${vers} in ${this.name}`);
      v.entry = { ...v.entry, yanked };
    });
  }

  async owners(name: string): Promise<string[]> {
    const r = await this.record(name.toLowerCase());
    if (!r) throw notFound(`crate ${name} in ${this.name}`);
    return r.value.owners;
  }

  /** `cargo owner --add/--remove`; the last owner cannot be removed (the crate would be anyone's). */
  async changeOwners(name: string, logins: string[], add: boolean, who: Actor, known: (login: string) => boolean): Promise<string[]> {
    for (const l of logins) if (add && !known(l)) throw badCrate(`could not find user with login \`${l}\``);
    let out: string[] = [];
    await this.change(name, who, (rec) => {
      const next = add ? [...new Set([...rec.owners, ...logins])] : rec.owners.filter((o) => !logins.includes(o));
      if (!add && next.length === 0 && rec.owners.length > 0) throw badCrate('cannot remove all owners of a crate');
      rec.owners = next;
      out = next;
    });
    return out;
  }

  private async change(name: string, who: Actor, fn: (rec: CrateRecord) => void): Promise<void> {
    checkName(name);
    await this.d.gcGate.withShared(() =>
      this.docs.change(this.key(name), (cur) => {
        if (!cur || cur.name.toLowerCase() !== name.toLowerCase() || cur.versions.length === 0) throw notFound(`crate ${name} in ${this.name}`);
        this.mayManage(cur, who);
        fn(cur);
        return cur;
      }),
    );
  }
}
