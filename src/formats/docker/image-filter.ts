import { globToRegExp } from '../../util/glob.ts';

/**
 * Which images a remote repo may serve, as Artifactory's includes/excludes patterns (the config's
 * one pattern language, util/glob.ts). Patterns match the upstream's name of the image (`alpine`
 * is `library/alpine` on Docker Hub).
 */
export class ImageFilter {
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
