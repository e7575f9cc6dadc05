import { fallsThrough, firstMember, memberDown } from '../members.ts';
import { digestOf } from '../../storage/digest.ts';
import { Lru } from '../../util/lru.ts';
import { newestFirst, renderEntriesSliced } from './index-file.ts';
import type { Entries, IndexEntry, IndexFormat } from './index-file.ts';
import { notFound } from './reader.ts';
import type { HelmFile, HelmReader } from './reader.ts';


/**
 * One chart repository URL over ordered members: the index is the members' indexes merged (the
 * first member that has a chart version wins), rendered again only when a member's index changed;
 * a file comes from the first member that has it. Uploads go to `deployTo` (the HTTP layer's job).
 */
export class HelmVirtual implements HelmReader {
  readonly type = 'virtual' as const;
  private rendered: { token: string; result: Promise<{ body: Uint8Array; etag: string }> } | null = null;
  private merged: { token: string; entries: Entries } | null = null;
  /**
   * The views of readers who may read only some members, one per member set, each with its merged
   * and rendered index kept: a reader without one member's read permission must not cost a merge
   * and a render of a 45 MB index per request (issue 24, 22: 1.2–1.5 s each).
   */
  private readonly views = new Lru<HelmVirtual>(32);

  constructor(
    readonly name: string,
    private readonly members: HelmReader[],
    readonly indexFormat: IndexFormat,
  ) {}

  restrictedTo(mayRead: (member: string) => boolean): HelmVirtual {
    const members = this.members.filter((m) => mayRead(m.name));
    if (members.length === this.members.length) return this;
    const key = members.map((m) => m.name).join('\n');
    let view = this.views.get(key);
    if (!view) this.views.set(key, (view = new HelmVirtual(this.name, members, this.indexFormat)));
    return view;
  }

  /** The members' indexes merged, again only when one of them changed (their tokens say so). */
  async entries(via?: string): Promise<{ entries: Entries; token: string }> {
    const got: Array<{ entries: Entries; token: string }> = [];
    for (const m of this.members) {
      try {
        got.push(await m.entries(via));
      } catch (e) {
        // A member whose index is missing (an upstream without one, a remote offline and empty) or
        // unreachable with nothing cached adds nothing: the other members' charts are still served.
        if (fallsThrough(e) || memberDown(e)) continue;
        throw e;
      }
    }
    const token = `${this.name}[${got.map((g) => g.token).join(',')}]`;
    if (this.merged?.token === token) return this.merged;
    this.merged = { token, entries: merge(got) };
    return this.merged;
  }

  async indexFile(via?: string): Promise<HelmFile> {
    const { entries, token } = await this.entries(via);
    // One render per change however many ask at once (checked and set with no await between),
    // yielding as it goes, so other requests are not held meanwhile.
    if (this.rendered?.token !== token) {
      const result = renderEntriesSliced(entries, this.indexFormat, new Date().toISOString()).then((text) => {
        const body = new TextEncoder().encode(text);
        return { body, etag: digestOf(body).hex };
      });
      const mine = { token, result };
      this.rendered = mine;
      result.catch(() => {
        if (this.rendered === mine) this.rendered = null;
      });
    }
    const r = await this.rendered.result;
    return { kind: 'bytes', body: r.body, etag: r.etag, cache: 'LOCAL' };
  }

  file(file: string, via?: string): Promise<HelmFile> {
    return firstMember(this.members, (m) => m.file(file, via), () => notFound(file));
  }
}

/** The first member that has a chart version wins it; versions newest first. */
function merge(got: Array<{ entries: Entries }>): Entries {
  const merged = new Map<string, Map<string, IndexEntry>>();
  for (const g of got) {
    for (const [name, versions] of g.entries) {
      let into = merged.get(name);
      if (!into) merged.set(name, (into = new Map()));
      for (const e of versions) if (!into.has(e.version)) into.set(e.version, e);
    }
  }
  return new Map([...merged].map(([n, vs]) => [n, [...vs.values()].sort(newestFirst)]));
}
