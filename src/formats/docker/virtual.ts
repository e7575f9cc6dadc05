import { RegistryError } from '../../errors.ts';
import { fallsThrough, firstMember, memberDown } from '../members.ts';
import type { Digest } from '../../storage/digest.ts';
import { mergeSorted } from './listing.ts';
import type { Reference } from './reference.ts';
import type { BlobResult, ManifestResult } from './results.ts';
import type { DockerReader, DockerWriter } from './repo.ts';


/**
 * One URL over an ordered list of local and remote repos. Pulls resolve the first member that has
 * the manifest; a blob comes from a member that already holds it when one does (no upstream call),
 * else from the first member that can get it. Pushes go to `deployTo`.
 */
export class DockerVirtual implements DockerReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: DockerReader[],
    readonly writer: DockerWriter | undefined,
  ) {}

  /** The same virtual repo over only the members `mayRead` allows (a caller's own view). */
  restrictedTo(mayRead: (member: string) => boolean): DockerVirtual {
    return new DockerVirtual(this.name, this.members.filter((m) => mayRead(m.name)), this.writer);
  }

  async manifest(image: string, ref: Reference, via?: string): Promise<ManifestResult> {
    return this.first((m) => m.manifest(image, ref, via), (why) => new RegistryError('not_found', `manifest unknown: ${image}${why}`, { code: 'MANIFEST_UNKNOWN' }));
  }

  async blob(image: string, digest: Digest, head: boolean, via?: string): Promise<BlobResult> {
    for (const m of this.members) {
      if (await m.holds(image, digest)) return m.blob(image, digest, head, via);
    }
    const unknown = (why: string): RegistryError => new RegistryError('not_found', `blob unknown: ${digest.value}${why}`, { code: 'BLOB_UNKNOWN' });
    // A HEAD through a name that takes pushes is how a pushing client asks "upload this?": no
    // member holds the blob, so the answer is no, whether or not a remote member's upstream is up.
    // (A GET, which is a pull, still says that the upstream is down.)
    const found = this.first((m) => m.blob(image, digest, head, via), unknown);
    if (!(head && this.writer)) return found;
    return found.catch((e: unknown) => {
      throw memberDown(e) ? unknown('') : e;
    });
  }

  async tags(image: string, via?: string): Promise<string[]> {
    const lists = await this.each((m) => m.tags(image, via));
    if (lists.length === 0) throw new RegistryError('not_found', `repository name not known to registry: ${image}`, { code: 'NAME_UNKNOWN' });
    return mergeSorted(lists);
  }

  async catalog(): Promise<string[]> {
    return mergeSorted(await this.each((m) => m.catalog()));
  }

  async referrers(image: string, digest: Digest, via?: string): Promise<Array<Record<string, unknown>>> {
    const seen = new Set<unknown>();
    return (await this.each((m) => m.referrers(image, digest, via))).flat().filter((d) => !seen.has(d['digest']) && seen.add(d['digest']));
  }

  async holds(image: string, digest: Digest): Promise<boolean> {
    for (const m of this.members) if (await m.holds(image, digest)) return true;
    return false;
  }

  async holdsAnywhere(digest: Digest): Promise<boolean> {
    for (const m of this.members) if (await m.holdsAnywhere(digest)) return true;
    return false;
  }

  /**
   * The first member's answer; members that do not have it (or, with `alsoSkip`, fail that way)
   * are passed over. `none` gets the members' own reasons (an offline remote says so), so the
   * answer tells why nothing was found.
   */
  /** The first member's answer, by the kit's one rule for trying the next (formats/members.ts). */
  private first<T>(fn: (m: DockerReader) => Promise<T>, none: (why: string) => RegistryError): Promise<T> {
    return firstMember(this.members, fn, (reasons) => none(reasons.length > 0 ? ` (${reasons.join('; ')})` : ''));
  }

  /**
   * Every member's answer, skipping members that do not know the name or cannot list. A member
   * whose upstream is down is skipped too, so local tags still list while Docker Hub is away; only
   * when no member could answer at all does that failure surface.
   */
  private async each<T>(fn: (m: DockerReader) => Promise<T>): Promise<T[]> {
    const out: T[] = [];
    let down: unknown;
    let answered = false;
    for (const m of this.members) {
      try {
        out.push(await fn(m));
        answered = true;
      } catch (e) {
        if (fallsThrough(e)) continue;
        if (!memberDown(e)) throw e;
        down ??= e;
      }
    }
    if (!answered && down !== undefined) throw down;
    return out;
  }
}
