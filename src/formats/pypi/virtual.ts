import { fallsThrough, firstMember, memberDown } from '../members.ts';
import { guardedMembers, memberAllows } from '../member-filter.ts';
import type { MemberFilter } from '../member-filter.ts';
import type { CachedFile } from '../remote-file.ts';
import { matchesAny } from './names.ts';
import { notFound } from './reader.ts';
import type { PageAnswer, PageOptions, PypiReader } from './reader.ts';

/**
 * One index URL over ordered PyPI repos. A project is answered whole by the first member that has
 * it (no merging across members: PEP 708's concern and uv's `first-index` strategy), and a project
 * any local member hosts is answered from local members only, so a public project of the same name
 * never leaks in (dependency confusion). Per-member filters keep names away from members.
 */
export class PypiVirtual implements PypiReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: readonly PypiReader[],
    private readonly filters: Readonly<Record<string, MemberFilter>>,
  ) {}

  restrictedTo(readable: (member: string) => boolean): PypiVirtual {
    return new PypiVirtual(this.name, this.members.filter((m) => readable(m.name)), this.filters);
  }

  private allowed(m: PypiReader, project: string): boolean {
    return memberAllows(this.filters, m.name, project, matchesAny);
  }

  private async eligible(project: string): Promise<PypiReader[]> {
    const ms = this.members.filter((m) => this.allowed(m, project));
    return guardedMembers(ms, project);
  }

  async hosts(project: string): Promise<boolean> {
    for (const m of this.members) if (this.allowed(m, project) && m.hosts && (await m.hosts(project))) return true;
    return false;
  }

  async projects(max: number): Promise<string[]> {
    const all = new Set<string>();
    for (const m of this.members) for (const p of await m.projects(max)) if (all.size < max && this.allowed(m, p)) all.add(p);
    return [...all].sort();
  }

  async page(project: string, opts: PageOptions): Promise<PageAnswer> {
    let down: unknown;
    for (const m of await this.eligible(project)) {
      try {
        return await m.page(project, opts);
      } catch (e) {
        if (memberDown(e)) down ??= e;
        else if (!fallsThrough(e)) throw e;
      }
    }
    throw down ?? notFound(`project ${project} in ${this.name}`);
  }

  async file(project: string, file: string, via?: string): Promise<CachedFile> {
    return firstMember(await this.eligible(project), (m) => m.file(project, file, via), () => notFound(`${file} in ${this.name}`));
  }

  async metadata(project: string, file: string, via?: string): Promise<CachedFile> {
    return firstMember(await this.eligible(project), (m) => m.metadata(project, file, via), () => notFound(`${file}.metadata in ${this.name}`));
  }

  async info(project: string, version: string): Promise<Record<string, string | string[]> | null> {
    for (const m of await this.eligible(project)) {
      const i = await m.info?.(project, version).catch(() => null);
      if (i) return i;
    }
    return null;
  }
}
