import { Lru } from '../../util/lru.ts';
import { digestOf } from '../../storage/digest.ts';
import { fallsThrough, firstMember, memberDown } from '../members.ts';
import { guardedMembers, memberAllows } from '../member-filter.ts';
import type { MemberFilter } from '../member-filter.ts';
import type { CachedFile } from '../remote-file.ts';
import { matchesAny } from './names.ts';
import { abbreviate, encodeJson } from './packument.ts';
import type { Packument, PackumentAnswer } from './packument.ts';
import { notFound } from './reader.ts';
import type { NpmReader, PackumentOptions, SearchHit } from './reader.ts';

/** Merged packuments by the members' ETags: merged once per change, whatever the request rate. */
const merged = new Lru<{ full: Uint8Array; abbreviated: Uint8Array; doc: Packument }>(1000, 256 << 20, (m) => m.full.byteLength + m.abbreviated.byteLength);

/**
 * One registry URL over ordered npm repos. A package is the merge of what its members have (the
 * first member's version, dist-tags and fields win). The dependency-confusion guard: when a local
 * member hosts a name, only local members answer for it, so no version of a public package of
 * the same name ever leaks in. Per-member filters keep names away from members (`@corp/*` never
 * goes upstream). Tarballs come from the first member that has them.
 */
export class NpmVirtual implements NpmReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: readonly NpmReader[],
    private readonly filters: Readonly<Record<string, MemberFilter>>,
    private readonly shadow: boolean,
  ) {}

  /** The same view over the members a caller may read. */
  restrictedTo(readable: (member: string) => boolean): NpmVirtual {
    return new NpmVirtual(this.name, this.members.filter((m) => readable(m.name)), this.filters, this.shadow);
  }

  private allowed(m: NpmReader, name: string): boolean {
    return memberAllows(this.filters, m.name, name, matchesAny);
  }

  /** The members that may answer for `name`, the guard applied. */
  private async eligible(name: string): Promise<NpmReader[]> {
    const ms = this.members.filter((m) => this.allowed(m, name));
    return this.shadow ? guardedMembers(ms, name) : ms;
  }

  async hosts(name: string): Promise<boolean> {
    for (const m of this.members) if (this.allowed(m, name) && m.hosts && (await m.hosts(name))) return true;
    return false;
  }

  async names(max: number): Promise<string[]> {
    const all = new Set<string>();
    for (const m of this.members) for (const n of await m.names(max)) if (all.size < max && this.allowed(m, n)) all.add(n);
    return [...all].sort();
  }

  async packument(name: string, opts: PackumentOptions): Promise<PackumentAnswer> {
    const answers: PackumentAnswer[] = [];
    let down: unknown;
    for (const m of await this.eligible(name)) {
      try {
        answers.push(await m.packument(name, opts));
      } catch (e) {
        if (memberDown(e)) down ??= e;
        else if (!fallsThrough(e)) throw e;
      }
    }
    const [first] = answers;
    if (!first) throw down ?? notFound(`package ${name} in ${this.name}`);
    if (answers.length === 1) return first;
    const etag = digestOf(new TextEncoder().encode(answers.map((a) => a.etag).join(','))).hex.slice(0, 32);
    const build = async (): Promise<{ full: Uint8Array; abbreviated: Uint8Array; doc: Packument }> => {
      const hit = merged.get(etag);
      if (hit) return hit;
      const docs = await Promise.all(answers.map((a) => a.doc()));
      const doc = mergeDocs(docs);
      const m = { full: encodeJson(doc), abbreviated: encodeJson(abbreviate(doc)), doc };
      merged.set(etag, m);
      return m;
    };
    return { etag, cache: first.cache, modified: first.modified, full: async () => (await build()).full, abbreviated: async () => (await build()).abbreviated, doc: async () => (await build()).doc };
  }

  async tarball(name: string, file: string, via?: string): Promise<CachedFile> {
    return firstMember(await this.eligible(name), (m) => m.tarball(name, file, via), () => notFound(`tarball ${file} of ${name} in ${this.name}`));
  }

  async search(text: string, size: number, via?: string): Promise<SearchHit[]> {
    const seen = new Map<string, SearchHit>();
    for (const m of this.members) {
      const hits = await m.search(text, size, via).catch(() => []);
      for (const h of hits) if (!seen.has(h.name) && seen.size < size && this.allowed(m, h.name)) seen.set(h.name, h);
    }
    return [...seen.values()];
  }
}

/** Members' documents merged: the first member's fields, versions and tags win; later members add what it lacks. */
function mergeDocs(docs: Packument[]): Packument {
  const [head, ...rest] = docs;
  const out = structuredClone(head) as Packument;
  for (const d of rest) {
    for (const [v, m] of Object.entries(d.versions)) {
      if (out.versions[v]) continue;
      out.versions[v] = m;
      const t = d.time[v];
      if (t) out.time[v] = t;
    }
    for (const [tag, v] of Object.entries(d['dist-tags'])) if (!out['dist-tags'][tag]) out['dist-tags'][tag] = v;
  }
  return out;
}
