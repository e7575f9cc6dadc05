import { firstMember } from '../members.ts';
import { guardedMembers } from '../member-filter.ts';
import type { CachedFile } from '../remote-file.ts';
import { notFound } from './reader.ts';
import type { CargoReader, IndexAnswer, SearchHit } from './reader.ts';

/**
 * One registry URL over ordered Cargo repos. A crate is answered whole by the first member that
 * has it: its index file, and its downloads from that same member, so a lock file's checksums
 * always match the bytes. The dependency-confusion guard: when a local member hosts the name,
 * only local members answer for it, so a public crate of the same name never shadows it.
 */
export class CargoVirtual implements CargoReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: readonly CargoReader[],
  ) {}

  restrictedTo(readable: (member: string) => boolean): CargoVirtual {
    return new CargoVirtual(this.name, this.members.filter((m) => readable(m.name)));
  }

  private eligible(lower: string): Promise<CargoReader[]> {
    return guardedMembers([...this.members], lower);
  }

  async hosts(lower: string): Promise<boolean> {
    for (const m of this.members) if (m.hosts && (await m.hosts(lower))) return true;
    return false;
  }

  /** The member that answers for a crate, and its index file. */
  private async owner(lower: string, opts: { via?: string | undefined; stored?: boolean }): Promise<{ member: CargoReader; index: IndexAnswer }> {
    return firstMember(await this.eligible(lower), async (m) => ({ member: m, index: await m.index(lower, opts) }), () => notFound(`crate ${lower} in ${this.name}`));
  }

  async index(lower: string, opts: { via?: string | undefined; stored?: boolean }): Promise<IndexAnswer> {
    return (await this.owner(lower, opts)).index;
  }

  async crate(name: string, vers: string, via?: string): Promise<CachedFile> {
    const { member } = await this.owner(name.toLowerCase(), { via });
    return member.crate(name, vers, via);
  }

  async names(max: number): Promise<string[]> {
    const all = new Set<string>();
    for (const m of this.members) for (const n of await m.names(max)) if (all.size < max) all.add(n);
    return [...all].sort();
  }

  async search(q: string, max: number): Promise<SearchHit[]> {
    const seen = new Map<string, SearchHit>();
    for (const m of this.members) for (const h of await m.search(q, max).catch(() => [])) if (!seen.has(h.name.toLowerCase()) && seen.size < max) seen.set(h.name.toLowerCase(), h);
    return [...seen.values()];
  }
}
