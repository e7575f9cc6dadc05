import { Lru } from '../../util/lru.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { collectLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import { isSnapshotVersion } from '../../util/maven-version.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import { coordsOf, gaOf } from './coords.ts';
import type { Coords, MavenRoute, SumAlg } from './coords.ts';
import { artifactMetadata, groupMetadata, snapshotMetadata, trimBuilds } from './hosted-metadata.ts';
import { mavenLayout } from './layout.ts';
import type { ArtifactDoc, FileDoc, GroupDoc, SnapshotDoc } from './layout.ts';
import { parseMetadata, renderMetadata } from './metadata.ts';
import type { Metadata } from './metadata.ts';
import { notFound } from './reader.ts';
import type { MavenFile, MavenReader, MetadataAnswer } from './reader.ts';
import { walkTree } from './store.ts';
import { MultiHash, sumsOfBlob, sumsOfBytes } from './sums.ts';

export interface MavenLocalDeps extends LocalRepoDeps {
  versionPolicy: 'release' | 'snapshot' | 'mixed';
  redeploy: boolean;
  /** Snapshot builds kept per version (0: all). */
  keepSnapshots: number;
  maxFileBytes: number;
  delete: boolean;
}

const invalid = (m: string, code = 'INVALID_DEPLOY'): RegistryError => new RegistryError('invalid', m, { code });
/** A checksum that does not match removes the file it names only if that file is this fresh (the same deploy). */
const FRESH_MS = 10 * 60_000;
const buildFile = (c: { artifactId: string; version: string }, b: { timestamp: string; buildNumber: number }, key: string): string => {
  const bar = key.indexOf('|');
  const cl = key.slice(0, bar);
  return `${c.artifactId}-${c.version.slice(0, -'SNAPSHOT'.length)}${b.timestamp}-${b.buildNumber}${cl ? `-${cl}` : ''}.${key.slice(bar + 1)}`;
};

/**
 * A hosted Maven repository. Files are deployed with PUT as maven-deploy-plugin sends them, each
 * stored once with all four checksums computed while it streams; the repo writes every
 * `maven-metadata.xml` itself from what was deployed (a client's metadata is read only for plugin
 * prefixes), with compare-and-swap updates so parallel deploys lose nothing. Releases are
 * immutable unless `redeploy`; snapshot versions keep timestamped builds, the newest answering
 * `-SNAPSHOT` requests, the oldest dropped past `keepSnapshots`.
 */
export class MavenLocal implements MavenReader {
  readonly type = 'local' as const;
  readonly name: string;
  private readonly rendered = new Lru<{ bytes: Uint8Array; etag: string; parsed: Metadata }>(2000, 64 << 20, (r) => r.bytes.byteLength * 2);

  constructor(private readonly d: MavenLocalDeps) {
    this.name = d.repo;
  }

  get deletes(): boolean {
    return this.d.delete;
  }

  hosts(ga: string): Promise<boolean> {
    return this.d.meta.exists(mavenLayout.artifact(this.name, ga));
  }

  private async stored(path: string[]): Promise<{ doc: FileDoc; file: MavenFile } | null> {
    const doc = await this.d.meta.get<FileDoc>(mavenLayout.file(this.name, path));
    const dg = doc ? parseDigest(doc.digest) : null;
    if (!doc || !dg?.ok || !(await this.d.blobs.stat(dg.digest))) return null;
    return { doc, file: { kind: 'blob', digest: dg.digest, size: doc.size, cache: 'LOCAL', sums: { ...doc.sums, sha256: dg.digest.hex }, modified: doc.storedAt } };
  }

  async file(path: string[]): Promise<MavenFile> {
    const c = coordsOf(path);
    // `a-1.0-SNAPSHOT.jar` is the newest build's file of that classifier and extension.
    if (c && isSnapshotVersion(c.version) && !c.build) {
      const s = await this.d.meta.get<SnapshotDoc>(mavenLayout.snapshot(this.name, `${gaOf(c.group, c.artifactId)}:${c.version}`));
      const k = `${c.classifier ?? ''}|${c.extension}`;
      const b = s?.builds.filter((x) => x.files[k] !== undefined).pop();
      if (b) {
        const got = await this.stored([...path.slice(0, -1), buildFile(c, b, k)]);
        if (got) return got.file;
      }
    }
    const got = await this.stored(path);
    if (!got) throw notFound(`/${path.join('/')} in ${this.name}`);
    return got.file;
  }

  async metadata(dir: string[]): Promise<MetadataAnswer> {
    const last = dir[dir.length - 1] ?? '';
    let key: string;
    let make: (doc: never) => Metadata;
    if (dir.length >= 3 && isSnapshotVersion(last)) {
      const group = dir.slice(0, -2);
      const a = dir[dir.length - 2] ?? '';
      key = mavenLayout.snapshot(this.name, `${gaOf(group, a)}:${last}`);
      make = (s: SnapshotDoc) => snapshotMetadata(group.join('.'), a, last, s);
    } else {
      key = dir.length >= 2 ? mavenLayout.artifact(this.name, gaOf(dir.slice(0, -1), last)) : '';
      make = (a: ArtifactDoc) => artifactMetadata(a);
      if (!key || !(await this.d.meta.exists(key))) {
        key = mavenLayout.group(this.name, dir.join('.'));
        make = (g: GroupDoc) => groupMetadata(g);
      }
    }
    const doc = await this.d.meta.get<{ updated: number }>(key);
    if (!doc) throw notFound(`/${[...dir, 'maven-metadata.xml'].join('/')} in ${this.name}`);
    const rkey = `${key}|${JSON.stringify(doc).length}|${doc.updated}`;
    let r = this.rendered.get(rkey);
    if (!r) {
      const parsed = make(doc as never);
      const bytes = new TextEncoder().encode(renderMetadata(parsed));
      r = { bytes, etag: sumsOfBytes(bytes).sha1, parsed };
      this.rendered.set(rkey, r);
    }
    const hit = r;
    return { bytes: hit.bytes, etag: hit.etag, cache: 'LOCAL', modified: doc.updated, parsed: () => hit.parsed };
  }

  async prefixes(): Promise<string[]> {
    const groups = new Set<string>();
    for (const n of await this.d.meta.list(mavenLayout.artifacts(this.name))) {
      const ga = decodeSegment(n);
      groups.add(`/${ga.slice(0, ga.indexOf(':')).replace(/\./g, '/')}`);
    }
    return [...groups].sort();
  }

  /** A PUT as maven-deploy-plugin sends it: an artifact file, a checksum of one, or metadata. */
  async put(route: MavenRoute, body: AsyncIterable<Uint8Array>): Promise<{ created: boolean; coords?: Coords; digest?: string; size?: number }> {
    if (route.kind === 'metadata') {
      const bytes = await collectLimited(body, 1 << 20, 'metadata');
      if (!route.sum) await this.takePlugins(route.dir, bytes);
      return { created: true };
    }
    if (route.kind !== 'file') throw invalid('PUT takes a file path');
    if (route.sum) {
      await this.checkSum(route.path, route.sum, await collectLimited(body, 1024, 'checksum'));
      return { created: true };
    }
    return this.deploy(route.path, body);
  }

  private async deploy(path: string[], body: AsyncIterable<Uint8Array>): Promise<{ created: boolean; coords: Coords; digest: string; size: number }> {
    const c = coordsOf(path);
    if (!c) throw invalid(`/${path.join('/')} is not a Maven artifact path (group/…/artifactId/version/artifactId-version[-classifier].ext)`, 'PATH_INVALID');
    const snapshot = isSnapshotVersion(c.version);
    if (snapshot && this.d.versionPolicy === 'release') throw invalid(`repository ${this.name} takes releases only; ${c.version} is a snapshot`);
    if (!snapshot && this.d.versionPolicy === 'snapshot') throw invalid(`repository ${this.name} takes snapshots only; ${c.version} is a release`);
    const key = mavenLayout.file(this.name, path);
    const immutable = !snapshot && !this.d.redeploy;
    const exists = (): RegistryError => new RegistryError('conflict', `${c.filename} already exists in ${this.name} (releases are immutable)`, { code: 'ALREADY_EXISTS' });
    if (immutable && (await this.d.meta.exists(key))) throw exists();
    const w = await this.d.blobs.startWrite({ maxBytes: this.d.maxFileBytes });
    const h = new MultiHash();
    try {
      for await (const chunk of body) {
        h.update(chunk);
        await w.write(chunk);
      }
      w.verify();
    } catch (e) {
      await w.abort();
      if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('too_large', `file larger than maxFileBytes (${this.d.maxFileBytes} bytes)`, { code: 'TOO_LARGE' });
      throw e;
    }
    const sums = h.sums();
    return this.d.gcGate.withShared(async () => {
      if (immutable && (await this.d.meta.exists(key))) {
        await w.abort();
        throw exists();
      }
      const stored = await w.finish();
      const now = this.d.now();
      await this.d.meta.put(key, { digest: stored.digest.value, size: stored.size, storedAt: now, sums: { md5: sums.md5, sha1: sums.sha1, sha512: sums.sha512 } } satisfies FileDoc);
      const ga = gaOf(c.group, c.artifactId);
      await this.d.meta.update<ArtifactDoc>(mavenLayout.artifact(this.name, ga), (cur) => {
        const a = cur ?? { groupId: c.group.join('.'), artifactId: c.artifactId, versions: {}, updated: now };
        return { ...a, versions: { ...a.versions, [c.version]: a.versions[c.version] ?? now }, updated: now };
      });
      if (snapshot) await this.recordBuild(c, now);
      return { created: true, coords: c, digest: stored.digest.value, size: stored.size };
    });
  }

  private async recordBuild(c: Coords, now: number): Promise<void> {
    const k = `${c.classifier ?? ''}|${c.extension}`;
    let dropped: SnapshotDoc['builds'] = [];
    await this.d.meta.update<SnapshotDoc>(mavenLayout.snapshot(this.name, `${gaOf(c.group, c.artifactId)}:${c.version}`), (cur) => {
      const s: SnapshotDoc = cur ? { ...cur, builds: [...cur.builds] } : { builds: [], updated: now };
      if (c.build) {
        const { timestamp, buildNumber } = c.build;
        const i = s.builds.findIndex((b) => b.timestamp === timestamp && b.buildNumber === buildNumber);
        const b = i >= 0 ? s.builds[i] : undefined;
        const next = { timestamp, buildNumber, at: b?.at ?? now, files: { ...b?.files, [k]: c.filename } };
        if (i >= 0) s.builds[i] = next;
        else s.builds.push(next);
        s.builds.sort((x, y) => x.buildNumber - y.buildNumber || (x.timestamp < y.timestamp ? -1 : 1));
      } else s.plain = { ...s.plain, [k]: now };
      const t = trimBuilds({ ...s, updated: now }, this.d.keepSnapshots);
      dropped = t.dropped;
      return t.kept;
    });
    for (const b of dropped) for (const key of Object.keys(b.files)) await this.d.meta.delete(mavenLayout.file(this.name, [...c.group, c.artifactId, c.version, buildFile(c, b, key)]));
  }

  /** A client's checksum of a file deployed here: it must match what we computed, or the fresh file goes. */
  private async checkSum(path: string[], alg: SumAlg, bytes: Uint8Array): Promise<void> {
    const got = await this.stored(path);
    if (!got) throw notFound(`/${path.join('/')} in ${this.name} (deploy the file before its checksum)`);
    const sent = new TextDecoder().decode(bytes).trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    const have = got.file.sums?.[alg] ?? (got.file.kind === 'blob' ? (await sumsOfBlob(this.d.blobs, got.file.digest))?.[alg] : undefined);
    if (sent === have) return;
    const c = coordsOf(path);
    if (this.d.now() - got.doc.storedAt < FRESH_MS && c) await this.remove(path);
    throw invalid(`${alg} ${sent.slice(0, 128)} does not match the deployed ${path[path.length - 1]} (${alg} ${have ?? '?'}); the file was not kept`, 'CHECKSUM_MISMATCH');
  }

  /** Plugin prefixes from a client's group metadata, for plugins this repo hosts in that group. */
  private async takePlugins(dir: string[], bytes: Uint8Array): Promise<void> {
    let m: Metadata;
    try {
      m = parseMetadata(new TextDecoder().decode(bytes));
    } catch (e) {
      throw invalid(`maven-metadata.xml: ${e instanceof Error ? e.message : String(e)}`, 'METADATA_INVALID');
    }
    const plugins: GroupDoc['plugins'] = {};
    for (const p of m.plugins) if (await this.hosts(gaOf(dir, p.artifactId))) plugins[p.artifactId] = { prefix: p.prefix, ...(p.name ? { name: p.name } : {}) };
    if (Object.keys(plugins).length === 0) return;
    const now = this.d.now();
    await this.d.meta.update<GroupDoc>(mavenLayout.group(this.name, dir.join('.')), (cur) => ({ plugins: { ...cur?.plugins, ...plugins }, updated: now }));
  }

  /** Deletes a file, or every file under a folder (a version, an artifact); the metadata follows. Returns files removed. */
  async remove(path: string[]): Promise<number> {
    if (await this.d.meta.delete(mavenLayout.file(this.name, path))) {
      await this.forget(path.slice(0, -1));
      return 1;
    }
    let n = 0;
    for (const f of await this.filesUnder(path)) n += (await this.d.meta.delete(mavenLayout.file(this.name, f))) ? 1 : 0;
    if (n === 0) throw notFound(`/${path.join('/')} in ${this.name}`);
    await this.forget(path);
    return n;
  }

  /** Drops versions whose folder holds no file any more from the records metadata is written from. */
  private async forget(dir: string[]): Promise<void> {
    const candidates = dir.length >= 3 ? [{ group: dir.slice(0, -2), a: dir[dir.length - 2] ?? '', v: dir[dir.length - 1] }] : [];
    if (dir.length >= 2) candidates.push({ group: dir.slice(0, -1), a: dir[dir.length - 1] ?? '', v: undefined });
    for (const { group, a, v } of candidates) {
      const key = mavenLayout.artifact(this.name, gaOf(group, a));
      const doc = await this.d.meta.get<ArtifactDoc>(key);
      if (!doc) continue;
      const now = this.d.now();
      const keep: Record<string, number> = {};
      for (const [ver, at] of Object.entries(doc.versions)) {
        if ((v === undefined || ver === v) && (await this.filesUnder([...group, a, ver], 1)).length === 0) {
          await this.d.meta.delete(mavenLayout.snapshot(this.name, `${gaOf(group, a)}:${ver}`));
          continue;
        }
        keep[ver] = at;
      }
      if (Object.keys(keep).length === 0) await this.d.meta.delete(key);
      else await this.d.meta.update<ArtifactDoc>(key, (c) => (c ? { ...c, versions: keep, updated: now } : undefined));
      return;
    }
  }

  /** The stored files under a folder (folders of deleted files may remain on disk: only documents count), at most `max`. */
  async filesUnder(dir: string[], max = 100_000): Promise<string[][]> {
    const out: string[][] = [];
    await walkTree(this.d.meta, mavenLayout.dir(this.name, dir), async (p) => {
      if (out.length < max) out.push([...dir, ...p]);
    });
    return out;
  }
}
