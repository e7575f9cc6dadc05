import { isForeign, looseDescriptors } from './formats/docker/manifest.ts';
import type { Server } from './boot.ts';
import type { LinkDoc } from './formats/docker/local.ts';
import { parseDigest } from './storage/digest.ts';
import type { Digest } from './storage/digest.ts';
import { LAYOUT_VERSION, layout } from './storage/layout.ts';

export interface GcOptions {
  dryRun: boolean;
  /** Blobs and layer links younger than this are kept whatever references them. */
  graceMs: number;
  /** Upload sessions idle this long are removed. */
  uploadMaxAgeMs: number;
}

export interface GcReport {
  dryRun: boolean;
  manifests: number;
  blobsKept: number;
  blobsDeleted: number;
  bytesFreed: number;
  linksDeleted: number;
  uploadsDeleted: number;
  deleted: string[];
  ms: number;
}

export type GcServer = Pick<Server, 'driver' | 'meta' | 'blobs' | 'uploads' | 'log'>;
export const MAX_MANIFEST = 16 * 1024 * 1024;

/**
 * Mark and sweep over the store. Roots: every manifest of every repo on disk (configured or not:
 * taking a repo out of the config must not destroy its data), what those manifests reference,
 * remote repos' blob links (their cache is the evictor's business), and anything younger than the
 * grace period (a push may be about to reference it). Layer links of local images that no
 * manifest references and that are older than the grace period are removed; then every blob no
 * root reaches. Upload sessions are separate files and only removed when abandoned.
 */
export async function collectGarbage(s: GcServer, now: number, opts: GcOptions): Promise<GcReport> {
  const t0 = Date.now();
  const marked = new Set<string>();
  const report: GcReport = { dryRun: opts.dryRun, manifests: 0, blobsKept: 0, blobsDeleted: 0, bytesFreed: 0, linksDeleted: 0, uploadsDeleted: 0, deleted: [], ms: 0 };
  const reposDir = `${LAYOUT_VERSION}/repos`;
  for (const repo of await s.meta.list(reposDir)) {
    const root = layout.dockerRepoDir(repo);
    for (const d of await digestsUnder(s, `${root}/_blobs`)) marked.add(d.value);
    await walkImages(s, root, async (imageDir) => {
      const refs = new Set<string>();
      for (const m of await digestsUnder(s, `${imageDir}/_manifests`)) {
        report.manifests++;
        marked.add(m.value);
        refs.add(m.value);
        for (const r of referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null))) refs.add(r);
      }
      for (const l of await digestsUnder(s, `${imageDir}/_layers`)) {
        const key = `${imageDir}/_layers/${l.algorithm}/${l.hex}`;
        const link = await s.meta.get<LinkDoc>(key);
        if (refs.has(l.value) || (link && now - link.linkedAt < opts.graceMs)) continue;
        report.linksDeleted++;
        if (!opts.dryRun) await s.meta.delete(key);
      }
      for (const r of refs) marked.add(r);
    });
  }
  for (const u of await s.uploads.list()) {
    if (now - u.mtimeMs < opts.uploadMaxAgeMs) continue;
    report.uploadsDeleted++;
    if (!opts.dryRun) await s.uploads.remove(u.id);
  }
  for (const alg of await s.driver.list(`${LAYOUT_VERSION}/blobs`)) {
    for (const pre of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}`)) {
      for (const hex of await s.driver.list(`${LAYOUT_VERSION}/blobs/${alg}/${pre}`)) {
        const d = parseDigest(`${alg}:${hex}`);
        if (!d.ok) continue;
        const st = await s.blobs.stat(d.digest);
        if (!st) continue;
        if (marked.has(d.digest.value) || now - st.mtimeMs < opts.graceMs) {
          report.blobsKept++;
          continue;
        }
        report.blobsDeleted++;
        report.bytesFreed += st.size;
        report.deleted.push(d.digest.value);
        if (!opts.dryRun) await s.blobs.delete(d.digest);
      }
    }
  }
  report.ms = Date.now() - t0;
  return report;
}

/** Everything a repo links or references: what eviction of other repos must never delete. */
export async function heldBy(s: GcServer, repo: string, into: Set<string>): Promise<void> {
  const root = layout.dockerRepoDir(repo);
  for (const d of await digestsUnder(s, `${root}/_blobs`)) into.add(d.value);
  await walkImages(s, root, async (imageDir) => {
    for (const l of await digestsUnder(s, `${imageDir}/_layers`)) into.add(l.value);
    for (const m of await digestsUnder(s, `${imageDir}/_manifests`)) {
      into.add(m.value);
      for (const r of referenced(await s.blobs.readAll(m, MAX_MANIFEST).catch(() => null))) into.add(r);
    }
  });
}

/** Calls fn for every image folder under a repo's docker root (folders nest by name segment). */
export async function walkImages(s: Pick<Server, 'meta'>, dir: string, fn: (imageDir: string) => Promise<void>, depth = 0): Promise<void> {
  if (depth > 32) return;
  const children = await s.meta.list(dir);
  if (depth > 0 && children.some((c) => c === '_manifests' || c === '_layers' || c === '_tags')) await fn(dir);
  for (const c of children) if (!c.startsWith('_')) await walkImages(s, `${dir}/${c}`, fn, depth + 1);
}

/** Digests stored as `<dir>/<alg>/<hex>` entries. */
export async function digestsUnder(s: Pick<Server, 'meta'>, dir: string): Promise<Digest[]> {
  const out: Digest[] = [];
  for (const alg of await s.meta.list(dir)) {
    for (const hex of await s.meta.list(`${dir}/${alg}`)) {
      const d = parseDigest(`${alg}:${hex}`);
      if (d.ok) out.push(d.digest);
    }
  }
  return out;
}

/**
 * Digests a manifest points at, read leniently (any format, cached or pushed): config, layers,
 * an index's manifests, and `blobs` of older artifact manifests. A manifest that does not parse
 * references nothing here; for remote repos the blob links keep its layers.
 */
export function referenced(bytes: Uint8Array | null, requiredOnly = false): string[] {
  // Foreign (non-distributable) layers live at their `urls`, never in a registry: not required.
  return looseDescriptors(bytes)
    .filter((d) => !(requiredOnly && d.mediaType !== undefined && isForeign(d.mediaType, d.urls)))
    .map((d) => d.digest);
}

/** The gc options of a config. */
export function gcOptions(s: Pick<Server, 'config'>, dryRun: boolean): GcOptions {
  const g = s.config.gc;
  return { dryRun, graceMs: g.graceMinutes * 60_000, uploadMaxAgeMs: g.uploadMaxAgeHours * 3_600_000 };
}

/** The online mode: gc under the exclusive lock, so no push can add a reference mid-run. */
export function runGc(s: Server, dryRun: boolean): Promise<GcReport> {
  return s.gcLock.withExclusive(() => collectGarbage(s, Date.now(), gcOptions(s, dryRun)));
}
