import { RegistryError, isRegistryError } from '../../errors.ts';
import { idleTimeoutBody, readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import { decodeSegment } from '../../storage/key-encoding.ts';
import type { LocalRepoDeps } from '../local-repo.ts';
import { goLayout } from './layout.ts';
import type { GoFileDoc } from './layout.ts';
import { compareVersions, declaredModule, unescapeCase } from './module.ts';
import type { GoAnswer, GoExt, GoReader } from './remote.ts';
import { MAX_ZIP_BYTES, checkModuleZip } from './zip.ts';

export interface GoLocalDeps extends LocalRepoDeps {
  allowDelete: boolean;
  bodyIdleMs: number;
}

export interface GoWriter {
  readonly name: string;
  put(module: string, version: string, ext: GoExt, body: ReadableStream<Uint8Array> | null): Promise<{ published: boolean }>;
  delete(module: string, version: string): Promise<void>;
}

const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });
const immutable = (module: string, version: string): RegistryError =>
  new RegistryError('conflict', `${module}@${version} is already published; module versions are immutable`, { code: 'EXISTS' });

/**
 * A hosted Go module repo. A version is published by its `.zip` (checked as the go command checks
 * module zips, its go.mod compared with an uploaded `.mod`, else the `.mod` derived from it) and is
 * immutable from then on; `.mod` and `.info` may be uploaded before the zip, and are derived when
 * not (`.info` with the publishing time).
 */
export class GoLocal implements GoReader, GoWriter {
  readonly type = 'local' as const;
  readonly name: string;

  constructor(private readonly d: GoLocalDeps) {
    this.name = d.repo;
  }

  async file(module: string, version: string, ext: GoExt): Promise<GoAnswer> {
    if (!(await this.published(module, version))) throw notFound(`${module}@${version}`);
    const doc = await this.d.meta.get<GoFileDoc>(goLayout.file(this.name, module, version, ext));
    const d = doc ? parseDigest(String(doc.digest)) : null;
    if (!doc || !d?.ok) throw notFound(`${module}@${version}.${ext}`);
    return { kind: 'blob', digest: d.digest, size: doc.size, cache: 'LOCAL' };
  }

  /** A hosted repo proxies no checksum database: its modules are in none (GONOSUMDB). */
  sumdb(): undefined {
    return undefined;
  }

  async list(module: string): Promise<GoAnswer & { kind: 'text' }> {
    const versions = await this.versions(module);
    if (versions.length === 0) throw notFound(module);
    return { kind: 'text', body: versions.map((v) => `${v}\n`).join(''), cache: 'LOCAL' };
  }

  async latest(module: string): Promise<GoAnswer & { kind: 'text' }> {
    const versions = await this.versions(module);
    const releases = versions.filter((v) => !/^v[0-9.]+-/.test(v));
    const best = (releases.length > 0 ? releases : versions).at(-1);
    if (!best) throw notFound(module);
    const info = await this.file(module, best, 'info');
    if (info.kind !== 'blob') throw notFound(module);
    const bytes = await this.d.blobs.readAll(info.digest, 1 << 20);
    return { kind: 'text', body: bytes ? new TextDecoder().decode(bytes) : JSON.stringify({ Version: best }), cache: 'LOCAL' };
  }

  async put(module: string, version: string, ext: GoExt, body: ReadableStream<Uint8Array> | null): Promise<{ published: boolean }> {
    if (await this.published(module, version)) throw immutable(module, version);
    if (ext !== 'zip') {
      const bytes = await readLimited(body, ext === 'mod' ? 16 << 20 : 1 << 20, this.d.bodyIdleMs, `.${ext}`, 'invalid');
      const text = new TextDecoder().decode(bytes);
      if (ext === 'mod' && declaredModule(text) !== module) throw new RegistryError('invalid', `go.mod declares module ${declaredModule(text) ?? '(none)'}, not ${module}`, { code: 'MOD_MISMATCH' });
      if (ext === 'info' && (JSON.parse(text) as { Version?: unknown } | null)?.Version !== version) {
        throw new RegistryError('invalid', `.info must be JSON with "Version": "${version}"`, { code: 'INFO_INVALID' });
      }
      await this.store(module, version, ext, bytes);
      return { published: false };
    }
    const w = await this.d.blobs.startWrite({ maxBytes: MAX_ZIP_BYTES });
    let goMod: Uint8Array | null;
    try {
      if (body) for await (const chunk of idleTimeoutBody(body, this.d.bodyIdleMs, 'module zip', 'invalid', false)) await w.write(chunk);
      const fh = await this.d.blobs.openTemp(w.tempKey);
      if (!fh) throw new RegistryError('internal', 'upload vanished');
      try {
        goMod = await checkModuleZip(fh, w.bytesWritten, module, version);
      } finally {
        await fh.close();
      }
      const staged = await this.staged(module, version, 'mod');
      const mod = goMod ?? staged ?? new TextEncoder().encode(`module ${module}\n`);
      if (staged && goMod && new TextDecoder().decode(staged) !== new TextDecoder().decode(goMod)) {
        throw new RegistryError('invalid', 'the zip\'s go.mod differs from the uploaded .mod', { code: 'MOD_MISMATCH' });
      }
      if (declaredModule(new TextDecoder().decode(mod)) !== module) throw new RegistryError('invalid', `go.mod declares module ${declaredModule(new TextDecoder().decode(mod)) ?? '(none)'}, not ${module}`, { code: 'MOD_MISMATCH' });
      if (!staged) await this.store(module, version, 'mod', mod);
      if (!(await this.staged(module, version, 'info'))) {
        await this.store(module, version, 'info', new TextEncoder().encode(JSON.stringify({ Version: version, Time: new Date(this.d.now()).toISOString() })));
      }
    } catch (e) {
      await w.abort();
      if (isRegistryError(e) && e.kind === 'too_large') throw new RegistryError('too_large', `module zip larger than ${MAX_ZIP_BYTES} bytes`, { code: 'TOO_LARGE' });
      throw e;
    }
    // The zip's document is the publication: written last, under the gc lock with its blob.
    await this.d.gcGate.withShared(async () => {
      if (await this.published(module, version)) {
        await w.abort();
        throw immutable(module, version);
      }
      const b = await w.finish();
      await this.d.meta.put(goLayout.file(this.name, module, version, 'zip'), { digest: b.digest.value, size: b.size, storedAt: this.d.now() } satisfies GoFileDoc);
    });
    return { published: true };
  }

  async delete(module: string, version: string): Promise<void> {
    if (!this.d.allowDelete) throw new RegistryError('unsupported', `deletes are disabled in repository ${this.name}`, { code: 'UNSUPPORTED' });
    if (!(await this.published(module, version))) throw notFound(`${module}@${version}`);
    // The zip first: the version is gone from lists at once; its .mod and .info follow.
    for (const ext of ['zip', 'mod', 'info'] as const) await this.d.meta.delete(goLayout.file(this.name, module, version, ext));
  }

  private published(module: string, version: string): Promise<boolean> {
    return this.d.meta.exists(goLayout.file(this.name, module, version, 'zip'));
  }

  private async staged(module: string, version: string, ext: 'mod' | 'info'): Promise<Uint8Array | null> {
    const doc = await this.d.meta.get<GoFileDoc>(goLayout.file(this.name, module, version, ext));
    const d = doc ? parseDigest(String(doc.digest)) : null;
    return d?.ok ? this.d.blobs.readAll(d.digest, 16 << 20) : null;
  }

  private async store(module: string, version: string, ext: 'mod' | 'info', bytes: Uint8Array): Promise<void> {
    await this.d.gcGate.withShared(async () => {
      const b = await this.d.blobs.putBytes(bytes);
      await this.d.meta.put(goLayout.file(this.name, module, version, ext), { digest: b.digest.value, size: b.size, storedAt: this.d.now() } satisfies GoFileDoc);
    });
  }

  private async versions(module: string): Promise<string[]> {
    const names = await this.d.meta.list(goLayout.versions(this.name, module));
    const out: string[] = [];
    for (const n of names) if (n.endsWith('.zip')) out.push(unescapeCase(decodeSegment(n.slice(0, -4))));
    return out.sort(compareVersions);
  }
}
