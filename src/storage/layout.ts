import type { Digest } from './digest.ts';

/**
 * The storage layout, version 1. Every key the server writes is built here, from names that the
 * format layer has already validated against its grammar (driver.ts checks keys once more).
 *
 *   v1/blobs/<alg>/<2 hex>/<hex>                      immutable bytes, shared by every repo and format
 *   v1/tmp/<uuid>                                     in-flight bytes (fills, document writes); same volume
 *                                                     so rename is atomic; emptied at start-up
 *   v1/repos/<repo>/docker/_blobs/<alg>/<hex>         link: this repo may serve the blob (JSON)
 *   v1/repos/<repo>/docker/<image>/_manifests/<alg>/<hex>  link: manifest meta (JSON)
 *   v1/repos/<repo>/docker/<image>/_tags/<tag>        tag doc: { digest, mediaType, size, fetchedAt }
 *
 * Image-name components must start with [a-z0-9], so the `_`-prefixed folders can never collide
 * with an image name such as `team/_tags`.
 */
export const LAYOUT_VERSION = 'v1';

export const layout = {
  blob: (d: Digest): string => `${LAYOUT_VERSION}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`,
  temp: (id: string): string => `${LAYOUT_VERSION}/tmp/${id}`,
  tempDir: (): string => `${LAYOUT_VERSION}/tmp`,
  repoRoot: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}`,
  dockerBlobLink: (repo: string, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/_blobs/${d.algorithm}/${d.hex}`,
  dockerManifest: (repo: string, image: string, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_manifests/${d.algorithm}/${d.hex}`,
  dockerTag: (repo: string, image: string, tag: string): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_tags/${tag}`,
};
