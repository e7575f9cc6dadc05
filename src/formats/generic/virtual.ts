import { isRegistryError } from '../../errors.ts';
import { firstMember } from '../members.ts';
import { DEFAULT_PAGE, notFound } from './files.ts';
import type { FileResult, GenericReader, GenericWriter, ListEntry, ListPage, ListResult } from './files.ts';
import { encodeSegment } from './paths.ts';

/**
 * One URL over an ordered list of generic repos: a file comes from the first member that has it
 * (a member that does not, falls through; any other failure surfaces), a listing is the union.
 * Uploads go to `deployTo`.
 */
export class GenericVirtual implements GenericReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: GenericReader[],
    readonly writer: GenericWriter | undefined,
  ) {}

  /** The same repo over only the members the caller may read. */
  restrictedTo(mayRead: (member: string) => boolean): GenericVirtual {
    return new GenericVirtual(this.name, this.members.filter((m) => mayRead(m.name)), this.writer);
  }

  get(path: string[], head: boolean, via?: string): Promise<FileResult> {
    return firstMember(this.members, (m) => m.get(path, head, via), () => notFound(path));
  }

  /** The members' pages merged (the first member that has a name wins it), cut to one page in name order. */
  async list(path: string[], page: ListPage = { n: DEFAULT_PAGE }): Promise<ListResult> {
    const byKey = new Map<string, ListEntry>();
    let found = false;
    let more = false;
    for (const m of this.members) {
      try {
        const got = await m.list(path, page);
        for (const e of got.entries) if (!byKey.has(`${e.type}:${e.name}`)) byKey.set(`${e.type}:${e.name}`, e);
        more ||= got.more;
        found = true;
      } catch (e) {
        if (!(isRegistryError(e) && e.kind === 'not_found')) throw e;
      }
    }
    if (!found && path.length > 0) throw notFound(path);
    const names = [...new Set([...byKey.values()].map((e) => encodeSegment(e.name)))].sort();
    const keep = new Set(names.slice(0, page.n));
    const entries = [...byKey.values()].filter((e) => keep.has(encodeSegment(e.name))).sort(byName);
    return { entries, more: more || names.length > page.n };
  }
}

const byName = (a: ListEntry, b: ListEntry): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : 1);
