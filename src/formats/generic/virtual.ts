import { isRegistryError } from '../../errors.ts';
import { notFound } from './files.ts';
import type { FileResult, GenericReader, GenericWriter, ListEntry } from './files.ts';

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

  async get(path: string[], head: boolean, via?: string): Promise<FileResult> {
    for (const m of this.members) {
      try {
        return await m.get(path, head, via);
      } catch (e) {
        if (!(isRegistryError(e) && e.kind === 'not_found')) throw e;
      }
    }
    throw notFound(path);
  }

  async list(path: string[]): Promise<ListEntry[]> {
    const byKey = new Map<string, ListEntry>();
    let found = false;
    for (const m of this.members) {
      try {
        for (const e of await m.list(path)) if (!byKey.has(`${e.type}:${e.name}`)) byKey.set(`${e.type}:${e.name}`, e);
        found = true;
      } catch (e) {
        if (!(isRegistryError(e) && e.kind === 'not_found')) throw e;
      }
    }
    if (!found && path.length > 0) throw notFound(path);
    return [...byKey.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.type < b.type ? -1 : 1));
  }
}
