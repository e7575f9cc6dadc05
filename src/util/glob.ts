/**
 * The one pattern language of the config (remote include/exclude, retention images and protected
 * tags, cache pins), as Artifactory's: `*` matches within one path segment, `**` across segments
 * (`library/*`, `bitnami/**`; `**` followed by a slash may also match nothing, so `**`+`/nginx`
 * covers `nginx` itself). Everything else matches itself.
 */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*' && pattern[i + 1] === '*') {
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

/** `image:tag` patterns: the image part and the tag part each in the glob language above. */
export function imageTagMatcher(patterns: string[]): (image: string, tag: string) => boolean {
  const compiled = patterns.map((p) => {
    const i = p.lastIndexOf(':');
    return { image: globToRegExp(p.slice(0, i)), tag: globToRegExp(p.slice(i + 1)) };
  });
  return (image, tag) => compiled.some((c) => c.image.test(image) && c.tag.test(tag));
}

/** Include/exclude lists in the pattern language: empty include = everything not excluded. */
export class PatternFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include: string[], exclude: string[]) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
  }

  get active(): boolean {
    return this.include.length > 0 || this.exclude.length > 0;
  }

  allows(name: string): boolean {
    if (this.include.length > 0 && !this.include.some((r) => r.test(name))) return false;
    return !this.exclude.some((r) => r.test(name));
  }
}
