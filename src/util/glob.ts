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
