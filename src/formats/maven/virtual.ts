import { Lru } from '../../util/lru.ts';
import { isRegistryError } from '../../errors.ts';
import { firstMember, memberDown } from '../members.ts';
import { guardedMembers } from '../member-filter.ts';
import { METADATA, gaOf } from './coords.ts';
import { mergeMetadata, renderMetadata } from './metadata.ts';
import { notFound } from './reader.ts';
import type { MavenFile, MavenReader, MetadataAnswer } from './reader.ts';
import { sumsOfBytes } from './sums.ts';

/** The `group:artifact` a path is under, for the guard: the artifact folder of a file or a metadata folder. */
function gaOfFile(path: string[]): string | undefined {
  return path.length >= 4 ? gaOf(path.slice(0, -3), path[path.length - 3] ?? '') : undefined;
}

/**
 * One URL over an ordered list of Maven repos. A file is answered by the first member that has it,
 * by the kit's rule; metadata is every member's merged (asked in parallel), its checksums over the
 * merged bytes, the merge remembered per set of member answers. The dependency-confusion guard:
 * when a hosted member has `group:artifact`, its files and metadata come from hosted members only.
 * The prefix file is the union of the members' files, or 404 when any member cannot say.
 */
export class MavenVirtual implements MavenReader {
  readonly type = 'virtual' as const;
  private readonly merged = new Lru<MetadataAnswer>(5000, 64 << 20, (m) => m.bytes.byteLength * 2 + 200);

  constructor(
    readonly name: string,
    private readonly members: MavenReader[],
  ) {}

  /** The same virtual over only the members a caller may read. */
  restrictedTo(readable: (member: string) => boolean): MavenVirtual {
    const ms = this.members.filter((m) => readable(m.name));
    return ms.length === this.members.length ? this : new MavenVirtual(this.name, ms);
  }

  async hosts(ga: string): Promise<boolean> {
    for (const m of this.members) if (m.hosts && (await m.hosts(ga))) return true;
    return false;
  }

  private async membersFor(ga: string | undefined): Promise<MavenReader[]> {
    return ga ? guardedMembers(this.members, ga) : this.members;
  }

  async file(path: string[], via?: string): Promise<MavenFile> {
    const members = await this.membersFor(gaOfFile(path));
    return firstMember(members, (m) => m.file(path, via), () => notFound(`/${path.join('/')} in ${this.name}`));
  }

  async metadata(dir: string[], via?: string): Promise<MetadataAnswer> {
    // An artifact folder (g/a) or a snapshot version folder (g/a/v): either names an artifact the guard knows.
    const ga = dir.length >= 2 ? gaOf(dir.slice(0, -1), dir[dir.length - 1] ?? '') : undefined;
    const gav = dir.length >= 3 ? gaOf(dir.slice(0, -2), dir[dir.length - 2] ?? '') : undefined;
    let members = this.members;
    for (const x of [ga, gav]) {
      if (!x) continue;
      const g = await this.membersFor(x);
      if (g.length < members.length) members = g;
    }
    const answers = await Promise.allSettled(members.map((m) => m.metadata(dir, via)));
    const got: MetadataAnswer[] = [];
    let down: unknown;
    for (const a of answers) {
      if (a.status === 'fulfilled') got.push(a.value);
      else if (memberDown(a.reason)) down ??= a.reason;
      else if (!(isRegistryError(a.reason) && (a.reason.kind === 'not_found' || a.reason.kind === 'unsupported'))) throw a.reason;
    }
    if (got.length === 0) throw down ?? notFound(`/${[...dir, METADATA].join('/')} in ${this.name}`);
    const only = got.length === 1 ? got[0] : undefined;
    if (only) return only;
    const key = `${dir.join('/')}|${got.map((a) => a.etag).join(',')}`;
    const hit = this.merged.get(key);
    if (hit) return { ...hit, cache: 'HIT' };
    const m = mergeMetadata(got.map((a) => a.parsed()));
    const bytes = new TextEncoder().encode(renderMetadata(m));
    const answer: MetadataAnswer = { bytes, etag: sumsOfBytes(bytes).sha1, cache: got.some((a) => a.cache === 'STALE') ? 'STALE' : 'HIT', modified: Math.max(...got.map((a) => a.modified ?? 0)), parsed: () => m };
    this.merged.set(key, answer);
    return answer;
  }

  async prefixes(via?: string): Promise<string[] | null> {
    const all = new Set<string>();
    for (const p of await Promise.all(this.members.map((m) => m.prefixes(via)))) {
      if (p === null) return null;
      for (const l of p) all.add(l);
    }
    return [...all].sort();
  }
}
