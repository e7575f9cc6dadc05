import { RegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import { sameVersion } from '../../util/pep440.ts';
import { BlobDocs } from '../blob-doc.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import type { CachedFile } from '../remote-file.ts';
import { pypiLayout } from './layout.ts';
import type { FileDoc, HostedFile, HostedProject } from './layout.ts';
import { checkProject, normalize, parseFilename } from './names.ts';
import type { ProjectPage } from './page.ts';
import { notFound } from './reader.ts';
import type { PageAnswer, PypiReader } from './reader.ts';
import { field, infoOf, readUpload } from './upload.ts';
import { metadataFields, wheelMetadata } from './wheel-metadata.ts';

export interface PypiLocalDeps extends LocalRepoDeps {
  maxFileBytes: number;
  delete: boolean;
}

/** A project's file list is bounded like any stored document family: 64 MiB (some 100,000 files). */
const MAX_PROJECT_BYTES = 64 << 20;

const asProject = (j: unknown): HostedProject | null => (typeof j === 'object' && j !== null && typeof (j as HostedProject).name === 'string' && typeof (j as HostedProject).files === 'object' ? (j as HostedProject) : null);
const invalid = (m: string): RegistryError => new RegistryError('invalid', m, { code: 'INVALID_UPLOAD' });

/**
 * A hosted package index. Each project is a kit BlobDoc naming its file list (uploads of one
 * project from many CI jobs at once all land: compare-and-swap), plus a document per file and per
 * wheel's METADATA. Uploads stream into the store, checked against the form's sha256 and against
 * the file name's project and version.
 */
export class PypiLocal implements PypiReader {
  readonly type = 'local' as const;
  readonly name: string;
  private readonly docs: BlobDocs<HostedProject>;

  constructor(private readonly d: PypiLocalDeps) {
    this.name = d.repo;
    this.docs = new BlobDocs<HostedProject>(d.meta, d.blobs, { maxBytes: MAX_PROJECT_BYTES, parse: asProject, what: 'file list', now: d.now });
  }

  get maxFileBytes(): number {
    return this.d.maxFileBytes;
  }

  async projects(max: number): Promise<string[]> {
    return (await this.d.meta.list(pypiLayout.projects(this.name))).slice(0, max).map(decodeSegment);
  }

  hosts(project: string): Promise<boolean> {
    return this.d.meta.exists(pypiLayout.project(this.name, project));
  }

  private load(project: string): Promise<{ doc: { rev: number; created: number }; value: HostedProject } | null> {
    return this.docs.load(pypiLayout.project(this.name, project));
  }

  async page(project: string): Promise<PageAnswer> {
    const l = await this.load(project);
    if (!l) throw notFound(`project ${project} in ${this.name}`);
    const files = Object.values(l.value.files);
    const modified = files.reduce((m, f) => (f.uploadTime > m ? f.uploadTime : m), '');
    // Built only when a form is rendered (once per change): a repeated request is a cache lookup.
    const page = (): ProjectPage => ({
      name: project,
      files: [...files]
        .sort((x, y) => (x.uploadTime < y.uploadTime ? -1 : x.uploadTime > y.uploadTime ? 1 : x.filename < y.filename ? -1 : 1))
        .map((f) => ({
          filename: f.filename,
          sha256: f.digest.slice(7),
          size: f.size,
          uploadTime: f.uploadTime,
          ...(f.requiresPython ? { requiresPython: f.requiresPython } : {}),
          ...(f.yanked !== undefined ? { yanked: f.yanked } : {}),
          ...(f.metadata ? { coreMetadata: f.metadata.sha256 } : {}),
        })),
      lastSerial: l.doc.rev,
    });
    return { etag: `${l.doc.created.toString(36)}-${l.doc.rev}`, cache: 'LOCAL', modified: modified || undefined, page: async () => page() };
  }

  async info(project: string, version: string): Promise<Record<string, string | string[]> | null> {
    const l = await this.load(project);
    const key = l ? Object.keys(l.value.info).find((v) => sameVersion(v, version)) : undefined;
    return (key && l?.value.info[key]) || null;
  }

  private async stored(key: string, what: string): Promise<CachedFile> {
    const doc = await this.d.meta.get<FileDoc>(key);
    const dg = doc ? parseDigest(doc.digest) : null;
    if (!doc || !dg?.ok || !(await this.d.blobs.stat(dg.digest))) throw notFound(what);
    return { kind: 'blob', digest: dg.digest, size: doc.size, cache: 'LOCAL' };
  }

  file(project: string, file: string): Promise<CachedFile> {
    return this.stored(pypiLayout.file(this.name, project, file), `${file} in ${this.name}`);
  }

  metadata(project: string, file: string): Promise<CachedFile> {
    return this.stored(pypiLayout.metadata(this.name, project, file), `${file}.metadata in ${this.name}`);
  }

  /**
   * An upload as twine sends it. Checked before anything is linked: the form's action, a valid
   * project name and PEP 440 version, a file name naming both, the sha256 the form states, and
   * for wheels a METADATA naming the same project. A file name already present is refused with
   * PyPI's "File already exists" (twine --skip-existing reads it).
   */
  async upload(body: AsyncIterable<Uint8Array>, boundary: string): Promise<{ project: string; version: string; filename: string; digest: string; size: number }> {
    const form = await readUpload(body, boundary, () => this.d.blobs.startWrite({ maxBytes: this.d.maxFileBytes }), this.d.maxFileBytes);
    const { fields, writer } = form;
    try {
      const action = field(fields, ':action');
      if (action !== 'file_upload') throw invalid(`unsupported :action ${JSON.stringify(action ?? '')} (only file_upload)`);
      const name = checkProject(field(fields, 'name') ?? '');
      const version = field(fields, 'version') ?? '';
      const filename = form.filename.slice(form.filename.lastIndexOf('/') + 1);
      const parsed = parseFilename(filename, name);
      if (parsed.project !== normalize(name)) throw invalid(`the file ${filename} names the project ${parsed.project}, the form ${name}`);
      if (!sameVersion(parsed.version, version)) throw invalid(`the file ${filename} names the version ${parsed.version}, the form ${JSON.stringify(version)}`);
      const stored = writer.verify();
      const want = field(fields, 'sha256_digest')?.toLowerCase();
      if (want && want !== stored.digest.hex) throw invalid(`the file's sha256 is ${stored.digest.hex}, the form says ${want}`);
      const rp = field(fields, 'requires_python');
      return await this.d.gcGate.withShared(async () => {
        const blob = await writer.finish();
        const done = await this.record(name, filename, blob, { info: infoOf(fields), ...(rp ? { requiresPython: rp } : {}) });
        return { project: done.project, version: done.version, filename, digest: blob.digest.value, size: blob.size };
      });
    } catch (e) {
      await writer.abort().catch(() => {});
      throw e;
    }
  }

  /**
   * Files a stored blob under its project: an upload's second half, and a bundle import's (`same`:
   * a file of that name with these very bytes is left as it is, not refused). Runs under the gc
   * gate's shared hold, so the blob cannot go before its document names it.
   */
  private async record(name: string, filename: string, blob: { digest: Digest; size: number }, extra: { info: Record<string, string | string[]>; requiresPython?: string; yanked?: string | true }, same = false): Promise<{ project: string; version: string; stored: boolean }> {
    const parsed = parseFilename(filename, name);
    const project = parsed.project;
    if (project !== normalize(name)) throw invalid(`the file ${filename} names the project ${project}, not ${name}`);
    const meta = parsed.kind === 'wheel' ? await this.extractMetadata(blob.digest, blob.size, project, filename) : undefined;
    const hosted: HostedFile = { filename, version: parsed.version, digest: blob.digest.value, size: blob.size, uploadTime: new Date(this.d.now()).toISOString() };
    if (extra.requiresPython) hosted.requiresPython = extra.requiresPython;
    if (extra.yanked !== undefined) hosted.yanked = extra.yanked;
    if (meta) hosted.metadata = meta;
    let stored = true;
    await this.docs.change(pypiLayout.project(this.name, project), (cur) => {
      const p: HostedProject = cur ?? { name, files: {}, info: {} };
      const had = p.files[filename];
      if (had && same && had.digest === hosted.digest) {
        stored = false;
        return p;
      }
      if (had) throw new RegistryError('invalid', `File already exists: ${filename}`, { code: 'FILE_EXISTS' });
      stored = true;
      p.files[filename] = hosted;
      p.info[parsed.version] = { ...p.info[parsed.version], ...extra.info };
      return p;
    });
    if (stored) {
      await this.d.meta.put(pypiLayout.file(this.name, project, filename), { digest: blob.digest.value, size: blob.size, storedAt: this.d.now() } satisfies FileDoc);
      if (meta) await this.d.meta.put(pypiLayout.metadata(this.name, project, filename), { digest: meta.digest, size: meta.size, storedAt: this.d.now() } satisfies FileDoc);
    }
    return { project, version: parsed.version, stored };
  }

  /**
   * A bundle's file (its blob stored and verified by the core already), checked as an upload is:
   * the name's project and version, a wheel's METADATA. The same bytes under that name are skipped.
   */
  async importFile(name: string, filename: string, blob: { digest: Digest; size: number }, extra: { info: Record<string, string | string[]>; requiresPython?: string; yanked?: string | true }): Promise<boolean> {
    checkProject(name);
    return this.d.gcGate.withShared(async () => (await this.record(name, filename, blob, extra, true)).stored);
  }

  /** The wheel's METADATA as its own blob (PEP 658); refused when it names another project. */
  private async extractMetadata(digest: Digest, size: number, project: string, filename: string): Promise<HostedFile['metadata']> {
    const fh = await this.d.blobs.open(digest);
    if (!fh) return undefined;
    let bytes: Uint8Array | null;
    try {
      bytes = await wheelMetadata(fh, size);
    } finally {
      await fh.close();
    }
    if (!bytes) throw invalid(`${filename} is not a wheel: no single *.dist-info/METADATA in its zip`);
    const named = metadataFields(new TextDecoder().decode(bytes)).get('name')?.[0];
    if (!named || normalize(named) !== project) throw invalid(`the METADATA of ${filename} names the project ${JSON.stringify(named ?? '')}`);
    const m = await this.d.blobs.putBytes(bytes);
    return { digest: m.digest.value, size: m.size, sha256: m.digest.hex };
  }

  /** Yanks (reason, or true) or un-yanks (null) every file of a version (PEP 592). */
  async yank(project: string, version: string, reason: string | true | null): Promise<string[]> {
    const changed: string[] = [];
    await this.docs.change(pypiLayout.project(this.name, project), (cur) => {
      if (!cur) throw notFound(`project ${project} in ${this.name}`);
      changed.length = 0;
      for (const f of Object.values(cur.files)) {
        if (!sameVersion(f.version, version)) continue;
        if (reason === null) delete f.yanked;
        else f.yanked = reason;
        changed.push(f.filename);
      }
      if (changed.length === 0) throw notFound(`version ${version} of ${project}`);
      return cur;
    });
    return changed;
  }

  /** Deletes one file, or every file of a version (the bytes go with gc); the project goes with its last file. */
  async remove(project: string, what: { version?: string; filename?: string }): Promise<string[]> {
    if (!this.d.delete) throw new RegistryError('denied', `repository ${this.name} does not allow deletes`, { code: 'DENIED' });
    const gone: string[] = [];
    await this.docs.change(pypiLayout.project(this.name, project), (cur) => {
      if (!cur) throw notFound(`project ${project} in ${this.name}`);
      gone.length = 0;
      for (const f of Object.values(cur.files)) {
        if (what.filename ? f.filename !== what.filename : !sameVersion(f.version, what.version ?? '')) continue;
        delete cur.files[f.filename];
        gone.push(f.filename);
      }
      if (gone.length === 0) throw notFound(`${what.filename ?? `version ${what.version}`} of ${project}`);
      for (const v of Object.keys(cur.info)) if (!Object.values(cur.files).some((f) => sameVersion(f.version, v))) delete cur.info[v];
      return Object.keys(cur.files).length > 0 ? cur : null;
    });
    for (const f of gone) {
      await this.d.meta.delete(pypiLayout.file(this.name, project, f));
      await this.d.meta.delete(pypiLayout.metadata(this.name, project, f));
    }
    return gone;
  }
}
