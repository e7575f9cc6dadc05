import { PatternFilter } from '../../util/glob.ts';

/**
 * Which images a remote repo may serve, as Artifactory's includes/excludes patterns (the config's
 * one pattern language, util/glob.ts). Patterns match the upstream's name of the image (`alpine`
 * is `library/alpine` on Docker Hub).
 */
export class ImageFilter extends PatternFilter {}
