import { RegistryError } from '../../errors.ts';
import { fallsThrough, firstMember } from '../members.ts';
import type { GoAnswer, GoExt, GoReader } from './remote.ts';
import type { SumdbProxy } from './sumdb/proxy.ts';


/**
 * One GOPROXY URL over an ordered list of Go repos: a version's files come from the first member
 * that has it, `@v/list` is the union of the members' lists, `@latest` the first member's answer.
 */
export class GoVirtual implements GoReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: GoReader[],
  ) {}

  restrictedTo(mayRead: (member: string) => boolean): GoVirtual {
    return new GoVirtual(this.name, this.members.filter((m) => mayRead(m.name)));
  }

  /** The first member that proxies the database. */
  sumdb(name: string): SumdbProxy | undefined {
    for (const m of this.members) {
      const p = m.sumdb(name);
      if (p) return p;
    }
    return undefined;
  }

  async file(module: string, version: string, ext: GoExt, via?: string): Promise<GoAnswer> {
    return this.first((m) => m.file(module, version, ext, via), `${module}@${version}.${ext}`);
  }

  async latest(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }> {
    return this.first((m) => m.latest(module, via), `${module}@latest`);
  }

  async list(module: string, via?: string): Promise<GoAnswer & { kind: 'text' }> {
    const versions = new Set<string>();
    let found = false;
    for (const m of this.members) {
      try {
        for (const v of (await m.list(module, via)).body.split('\n')) if (v.trim() !== '') versions.add(v.trim());
        found = true;
      } catch (e) {
        if (!fallsThrough(e)) throw e;
      }
    }
    if (!found) throw new RegistryError('not_found', `not found: ${module}`, { code: 'NOT_FOUND' });
    return { kind: 'text', body: [...versions].map((v) => `${v}\n`).join(''), cache: 'LOCAL' };
  }

  /** The first member's answer, by the kit's one rule for trying the next (formats/members.ts). */
  private first<T>(fn: (m: GoReader) => Promise<T>, what: string): Promise<T> {
    return firstMember(this.members, fn, () => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' }));
  }
}
