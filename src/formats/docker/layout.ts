import type { Digest } from '../../storage/digest.ts';
import { LAYOUT_VERSION, layout as core } from '../../storage/layout.ts';

/**
 * Docker's keys under `v1/repos/<repo>/docker/` (the tree is drawn in src/storage/layout.ts), plus
 * the core's, so the format's files import one `layout`.
 */
export const layout = {
  ...core,
  dockerBlobLink: (repo: string, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/_blobs/${d.algorithm}/${d.hex}`,
  dockerManifest: (repo: string, image: string, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_manifests/${d.algorithm}/${d.hex}`,
  dockerRepoDir: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/docker`,
  dockerImageDir: (repo: string, image: string): string => `${LAYOUT_VERSION}/repos/${repo}/docker/${image}`,
  dockerLayerLink: (repo: string, image: string, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_layers/${d.algorithm}/${d.hex}`,
  dockerReferrersDir: (repo: string, image: string, subject: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_referrers/${subject.algorithm}/${subject.hex}`,
  dockerReferrer: (repo: string, image: string, subject: Digest, d: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_referrers/${subject.algorithm}/${subject.hex}/${d.algorithm}-${d.hex}`,
  dockerTagList: (repo: string, image: string): string => `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_taglist`,
  dockerUpstreamReferrers: (repo: string, image: string, subject: Digest): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_upstream_referrers/${subject.algorithm}-${subject.hex}`,
  dockerTag: (repo: string, image: string, tag: string): string =>
    `${LAYOUT_VERSION}/repos/${repo}/docker/${image}/_tags/${tag}`,
};
export { LAYOUT_VERSION } from '../../storage/layout.ts';
