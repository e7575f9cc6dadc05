import type { Server } from './boot.ts';
import type { ManifestDoc, TagDoc } from './formats/docker/manifest-fetch.ts';
import { MAX_MANIFEST, digestsUnder, referenced, walkImages } from './gc.ts';
import { hashHandle } from './storage/blob-store.ts';
import { parseDigest } from './storage/digest.ts';
import type { Digest } from './storage/digest.ts';
import { LAYOUT_VERSION, layout } from './storage/layout.ts';

export interface FsckReport {
  blobs: number;
  manifests: number;
  tags: number;
  problems: string[];
}

type FsckServer = Pick<Server, 'driver' | 'meta' | 'blobs' | 'config'>;

/**
 * Checks the invariants every write path keeps, crash or no crash: a blob file holds exactly the
 * bytes its name says (with verifyBlobs), every tag points at a manifest this image has, every
 * manifest's bytes are in the store, and every blob a local image's manifest needs is there.
 * Remote repos fetch blobs lazily, so their manifests may reference blobs not (yet) cached.
 */
export async function checkStore(s: FsckServer, verifyBlobs: boolean): Promise<FsckReport> {
  const report: FsckReport = { blobs: 0, manifests: 0, tags: 0, problems: [] };
  const problem = (p: string): number => report.problems.push(p);
  const local = new Set(s.config.repos.filter((r) => r.type === 'local').map((r) => r.name));
  for (const alg of await s.driver.list(`${LAYOUT_VERSION}/blobs`)) {
    for (const pre of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}`)) {
      for (const hex of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}/${pre}`)) {
        const d = parseDigest(`${alg}:${hex}`);
        report.blobs++;
        if (!d.ok || hex.slice(0, 2) !== pre) {
          problem(`stray file in the blob store: ${alg}/${pre}/${hex}`);
          continue;
        }
        if (verifyBlobs && !(await hashesTo(s, d.digest))) problem(`blob ${d.digest.value}: content does not match its digest`);
      }
    }
  }
  for (const repo of await s.meta.list(`${LAYOUT_VERSION}/repos`)) {
    const root = layout.dockerRepoDir(repo);
    await walkImages(s, root, async (imageDir) => {
      const image = imageDir.slice(root.length + 1);
      const manifests = new Set<string>();
      for (const m of await digestsUnder(s, `${imageDir}/_manifests`)) {
        report.manifests++;
        manifests.add(m.value);
        const doc = await s.meta.get<ManifestDoc>(`${imageDir}/_manifests/${m.algorithm}/${m.hex}`);
        const bytes = await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null);
        if (!doc) problem(`${repo}/${image}: manifest doc ${m.value} unreadable`);
        if (!bytes) {
          problem(`${repo}/${image}: manifest ${m.value} has no bytes in the store`);
          continue;
        }
        if (!local.has(repo)) continue;
        for (const r of referenced(bytes, true)) {
          const rd = parseDigest(r);
          if (!rd.ok) continue;
          const isManifest = await s.meta.exists(layout.dockerManifest(repo, image, rd.digest));
          if (!isManifest && !(await s.blobs.stat(rd.digest))) problem(`${repo}/${image}: manifest ${m.value} needs ${r}, which is missing`);
        }
      }
      for (const t of await s.meta.list(`${imageDir}/_tags`)) {
        report.tags++;
        const tag = await s.meta.get<TagDoc>(`${imageDir}/_tags/${t}`);
        if (!tag) problem(`${repo}/${image}:${t}: tag doc unreadable`);
        else if (!manifests.has(tag.digest)) problem(`${repo}/${image}:${t}: points at ${tag.digest}, which this image does not have`);
      }
    });
  }
  return report;
}

async function hashesTo(s: FsckServer, d: Digest): Promise<boolean> {
  const fh = await s.blobs.open(d);
  return fh !== null && (await hashHandle(fh, d.algorithm)).value === d.value;
}
