/**
 * Which images a remote repo may serve, as Artifactory's includes/excludes patterns: `*` matches
 * within one path segment, `**` across segments (`library/*`, `bitnami/**`; a leading `**` and a
 * slash match any prefix, or none). Patterns match the upstream's name of the image (`alpine` is
 * `library/alpine` on Docker Hub).
 */
export class ImageFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include: string[], exclude: string[]) {
    this.include = include.map(compile);
    this.exclude = exclude.map(compile);
  }

  get active(): boolean {
    return this.include.length > 0 || this.exclude.length > 0;
  }

  allows(name: string): boolean {
    if (this.include.length > 0 && !this.include.some((r) => r.test(name))) return false;
    return !this.exclude.some((r) => r.test(name));
  }
}

function compile(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
      // `**/` may also match nothing: `**/nginx` covers `nginx` itself.
      if (pattern[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else {
      re += c.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
