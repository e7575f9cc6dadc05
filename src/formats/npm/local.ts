import { RegistryError } from '../../errors.ts';
import { ChecksumHasher, parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { BlobWriter } from '../../storage/blob-store.ts';
import { BlobDocs } from '../blob-doc.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import type { CachedFile } from '../remote-file.ts';
import { npmLayout } from './layout.ts';
import type { PackageDoc, TarballDoc } from './layout.ts';
import { versionsToPublish, withDocument, withPublished, withTag } from './merge.ts';
import { checkName, tarballFile } from './names.ts';
import { abbreviate, asPackument, encodeJson, integrityOf } from './packument.ts';
import type { Packument, PackumentAnswer } from './packument.ts';
import { readPublishBody } from './publish-body.ts';
import { hitOf, matchesText, notFound } from './reader.ts';
import type { NpmReader, SearchHit } from './reader.ts';

export interface NpmLocalDeps extends LocalRepoDeps {
  maxTarballBytes: number;
  maxDocumentBytes: number;
  unpublish: boolean;
}

/** How many packages a search reads at most (a hosted repo's search is a scan). */
const SEARCH_SCAN = 5000;

/**
 * A hosted npm registry. Each package is one small document naming its packument's blob (changed
 * by compare-and-swap on the document, so concurrent publishes of different versions lose
 * nothing, on one disk or one bucket), plus one document per tarball. Packuments are rendered once
 * per change and kept as bytes.
 */
export class NpmLocal implements NpmReader {
  readonly type = 'local' as const;
  readonly name: string;
  private readonly docs: BlobDocs<Packument>;

  constructor(private readonly d: NpmLocalDeps) {
    this.name = d.repo;
    this.docs = new BlobDocs<Packument>(d.meta, d.blobs, { maxBytes: d.maxDocumentBytes, parse: asPackument, what: 'packument', now: d.now });
  }

  get maxTarballBytes(): number {
    return this.d.maxTarballBytes;
  }

  async names(max: number): Promise<string[]> {
    return (await this.d.meta.list(npmLayout.packages(this.name))).slice(0, max).map(decodeSegment);
  }

  hosts(name: string): Promise<boolean> {
    return this.d.meta.exists(npmLayout.package(this.name, name));
  }

  private load(name: string): Promise<{ doc: PackageDoc; value: Packument } | null> {
    return this.docs.load(npmLayout.package(this.name, name));
  }

  async packument(name: string): Promise<PackumentAnswer> {
    const l = await this.load(name);
    if (!l) throw notFound(`package ${name} in ${this.name}`);
    const { doc, value: p } = l;
    const etag = `${doc.created.toString(36)}-${doc.rev}`;
    let full: Uint8Array | undefined;
    let abbr: Uint8Array | undefined;
    return {
      etag,
      cache: 'LOCAL',
      modified: p.time['modified'],
      full: async () => (full ??= encodeJson({ ...p, _id: name, _rev: `${doc.rev}-${etag}` })),
      abbreviated: async () => (abbr ??= encodeJson(abbreviate(p))),
      doc: async () => p,
    };
  }

  async tarball(name: string, file: string): Promise<CachedFile> {
    const doc = await this.d.meta.get<TarballDoc>(npmLayout.tarball(this.name, name, file));
    const dg = doc ? parseDigest(doc.digest) : null;
    if (!doc || !dg?.ok || !(await this.d.blobs.stat(dg.digest))) throw notFound(`tarball ${file} of ${name} in ${this.name}`);
    return { kind: 'blob', digest: dg.digest, size: doc.size, cache: 'LOCAL' };
  }

  async search(text: string, size: number): Promise<SearchHit[]> {
    const out: SearchHit[] = [];
    const names = (await this.d.meta.list(npmLayout.packages(this.name))).slice(0, SEARCH_SCAN);
    for (const key of names) {
      if (out.length >= size) break;
      const l = await this.load(decodeSegment(key)).catch(() => null);
      if (!l) continue;
      const hit = hitOf(l.value);
      if (matchesText(hit, text)) out.push(hit);
    }
    return out;
  }

  /** Changes a package's packument by compare-and-swap (the kit's BlobDocs); null deletes the package. */
  private change(name: string, fn: (p: Packument | null) => Packument | null): Promise<Packument | null> {
    return this.docs.change(npmLayout.package(this.name, name), fn);
  }

  /**
   * A PUT of a package document: `npm publish` when it carries a tarball (streamed into the store,
   * verified against integrity and shasum), else a document change (deprecate, unpublish of versions).
   */
  async put(name: string, body: AsyncIterable<Uint8Array>, mayDelete: boolean): Promise<{ kind: 'published'; version: string; file: string; digest: string; size: number } | { kind: 'updated'; removed: string[] }> {
    let tar: { file: string; w: BlobWriter; sha512: ChecksumHasher; sha1: ChecksumHasher } | undefined;
    try {
      const text = await readPublishBody(body, { maxDocumentBytes: this.d.maxDocumentBytes, maxAttachments: 1 }, async (file) => {
        const w = await this.d.blobs.startWrite({ maxBytes: this.d.maxTarballBytes });
        const t = { file, w, sha512: new ChecksumHasher({ algorithm: 'sha512', hex: '' }), sha1: new ChecksumHasher({ algorithm: 'sha1', hex: '' }) };
        tar = t;
        return {
          write: async (b) => {
            t.sha512.update(b);
            t.sha1.update(b);
            await w.write(b);
          },
        };
      });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new RegistryError('invalid', 'the publish document is not JSON', { code: 'INVALID_PUBLISH' });
      }
      const incoming = asPackument(json);
      if (!incoming) throw new RegistryError('invalid', 'the publish document has no package name', { code: 'INVALID_PUBLISH' });
      const t = tar;
      if (!t) return { kind: 'updated', removed: await this.putDocument(name, incoming, mayDelete) };
      checkName(name, true);
      const [one] = versionsToPublish(name, incoming, new Set([t.file]));
      if (!one) throw new RegistryError('invalid', 'no version to publish', { code: 'INVALID_PUBLISH' });
      const stored = t.w.verify();
      const sha512 = t.sha512.hex();
      const sha1 = t.sha1.hex();
      const att = (json as { _attachments?: Record<string, { length?: unknown }> })._attachments?.[t.file];
      if (typeof att?.length === 'number' && att.length !== stored.size) throw new RegistryError('invalid', `attachment ${t.file} has ${stored.size} bytes, its length says ${att.length}`, { code: 'INVALID_PUBLISH' });
      const dist = (one.manifest['dist'] ?? {}) as { integrity?: unknown; shasum?: unknown };
      if (typeof dist.integrity === 'string' && !dist.integrity.split(/\s+/).includes(integrityOf(sha512))) throw new RegistryError('invalid', `the tarball's sha512 does not match dist.integrity of ${name}@${one.version}`, { code: 'EINTEGRITY' });
      if (typeof dist.shasum === 'string' && dist.shasum.toLowerCase() !== sha1) throw new RegistryError('invalid', `the tarball's sha1 does not match dist.shasum of ${name}@${one.version}`, { code: 'EINTEGRITY' });
      const now = new Date(this.d.now()).toISOString();
      return await this.d.gcGate.withShared(async () => {
        const committed = await t.w.finish();
        await this.change(name, (p) => withPublished(p, name, incoming, { ...one, integrity: integrityOf(sha512), shasum: sha1 }, now));
        const doc: TarballDoc = { digest: committed.digest.value, size: committed.size, storedAt: this.d.now(), version: one.version };
        await this.d.meta.put(npmLayout.tarball(this.name, name, one.file), doc);
        return { kind: 'published' as const, version: one.version, file: one.file, digest: committed.digest.value, size: committed.size };
      });
    } catch (e) {
      await tar?.w.abort().catch(() => {});
      throw e;
    }
  }

  /** A document PUT without a tarball (npm deprecate, npm unpublish <version>). Returns the versions removed. */
  async putDocument(name: string, incoming: Packument, mayDelete: boolean): Promise<string[]> {
    if (incoming.name !== name) throw new RegistryError('invalid', `the document names ${JSON.stringify(incoming.name)}, the URL ${JSON.stringify(name)}`, { code: 'INVALID_PUBLISH' });
    let removed: string[] = [];
    const now = new Date(this.d.now()).toISOString();
    await this.d.gcGate.withShared(() =>
      this.change(name, (p) => {
        if (!p) throw notFound(`package ${name} in ${this.name}`);
        const r = withDocument(p, incoming, mayDelete && this.d.unpublish, now);
        removed = r.removed;
        return r.next;
      }),
    );
    for (const v of removed) await this.d.meta.delete(npmLayout.tarball(this.name, name, tarballFile(name, v)));
    return removed;
  }

  async tags(name: string): Promise<Record<string, string>> {
    const l = await this.load(name);
    if (!l) throw notFound(`package ${name} in ${this.name}`);
    return l.value['dist-tags'];
  }

  async setTag(name: string, tag: string, version: string | null): Promise<void> {
    const now = new Date(this.d.now()).toISOString();
    await this.d.gcGate.withShared(() =>
      this.change(name, (p) => {
        if (!p) throw notFound(`package ${name} in ${this.name}`);
        return withTag(p, tag, version, now);
      }),
    );
  }

  /** `npm unpublish <name> --force`: the package and its tarballs' documents (the bytes go with gc). */
  async removePackage(name: string): Promise<void> {
    if (!this.d.unpublish) throw new RegistryError('denied', `repository ${this.name} does not allow unpublish`, { code: 'DENIED' });
    if (!(await this.hosts(name))) throw notFound(`package ${name} in ${this.name}`);
    await this.change(name, () => null);
    await this.d.meta.deleteTree(npmLayout.packageTarballs(this.name, name));
  }

  /** The tarball DELETE npm sends after removing a version from the document: only once the version is gone. */
  async removeTarball(name: string, file: string): Promise<void> {
    const l = await this.load(name);
    const live = l && Object.keys(l.value.versions).some((v) => tarballFile(name, v) === file);
    if (live) throw new RegistryError('conflict', `${file} belongs to a published version; unpublish the version first`, { code: 'CONFLICT' });
    await this.d.meta.delete(npmLayout.tarball(this.name, name, file));
  }
}
