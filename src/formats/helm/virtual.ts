import { isRegistryError } from '../../errors.ts';
import { digestOf } from '../../storage/digest.ts';
import { newestFirst, renderEntries } from './index-file.ts';
import type { Entries, IndexEntry, IndexFormat } from './index-file.ts';
import { notFound } from './reader.ts';
import type { HelmFile, HelmReader } from './reader.ts';

const fallsThrough = (e: unknown): boolean => isRegistryError(e) && e.kind === 'not_found';

/**
 * One chart repository URL over ordered members: the index is the members' indexes merged (the
 * first member that has a chart version wins), rendered again only when a member's index changed;
 * a file comes from the first member that has it. Uploads go to `deployTo` (the HTTP layer's job).
 */
export class HelmVirtual implements HelmReader {
  readonly type = 'virtual' as const;
  private rendered: { token: string; body: Uint8Array; etag: string } | null = null;

  constructor(
    readonly name: string,
    private readonly members: HelmReader[],
    readonly indexFormat: IndexFormat,
  ) {}

  restrictedTo(mayRead: (member: string) => boolean): HelmVirtual {
    const members = this.members.filter((m) => mayRead(m.name));
    if (members.length === this.members.length) return this;
    return new HelmVirtual(this.name, members, this.indexFormat);
  }

  async entries(via?: string): Promise<{ entries: Entries; token: string }> {
    const merged = new Map<string, Map<string, IndexEntry>>();
    const tokens: string[] = [];
    for (const m of this.members) {
      let got;
      try {
        got = await m.entries(via);
      } catch (e) {
        // A member whose index is missing (an upstream without one, a remote offline and empty) or
        // unreachable with nothing cached adds nothing: the other members' charts are still served.
        if (fallsThrough(e) || (isRegistryError(e) && (e.kind === 'upstream' || e.kind === 'unavailable'))) continue;
        throw e;
      }
      tokens.push(got.token);
      for (const [name, versions] of got.entries) {
        let into = merged.get(name);
        if (!into) merged.set(name, (into = new Map()));
        for (const e of versions) if (!into.has(e.version)) into.set(e.version, e);
      }
    }
    const entries: Entries = new Map([...merged].map(([n, vs]) => [n, [...vs.values()].sort(newestFirst)]));
    return { entries, token: `${this.name}[${tokens.join(',')}]` };
  }

  async indexFile(via?: string): Promise<HelmFile> {
    const { entries, token } = await this.entries(via);
    if (this.rendered?.token !== token) {
      const body = new TextEncoder().encode(renderEntries(entries, this.indexFormat, new Date().toISOString()));
      this.rendered = { token, body, etag: digestOf(body).hex };
    }
    return { kind: 'bytes', body: this.rendered.body, etag: this.rendered.etag, cache: 'LOCAL' };
  }

  async file(file: string, via?: string): Promise<HelmFile> {
    for (const m of this.members) {
      try {
        return await m.file(file, via);
      } catch (e) {
        if (!fallsThrough(e)) throw e;
      }
    }
    throw notFound(file);
  }
}
