import type { ArtifactDoc, GroupDoc, SnapshotDoc } from './layout.ts';
import { latestAndRelease, mavenTimestamp, sortVersions } from './metadata.ts';
import type { Metadata } from './metadata.ts';

/** An artifact's metadata, written from what was deployed (never from what a client sent). */
export function artifactMetadata(a: ArtifactDoc): Metadata {
  const versions = sortVersions(Object.keys(a.versions));
  return { groupId: a.groupId, artifactId: a.artifactId, ...latestAndRelease(versions), versions, lastUpdated: mavenTimestamp(a.updated), snapshotVersions: [], plugins: [] };
}

const splitKey = (k: string): { classifier?: string; extension: string } => {
  const bar = k.indexOf('|');
  const classifier = k.slice(0, bar);
  return { ...(classifier ? { classifier } : {}), extension: k.slice(bar + 1) };
};

/** A snapshot version's metadata: the newest build, and per (classifier, extension) its newest file. */
export function snapshotMetadata(groupId: string, artifactId: string, version: string, s: SnapshotDoc): Metadata {
  const newest = s.builds[s.builds.length - 1];
  const base = version.slice(0, -'SNAPSHOT'.length);
  const files = new Map<string, { value: string; updated: string }>();
  for (const b of s.builds) for (const k of Object.keys(b.files)) files.set(k, { value: `${base}${b.timestamp}-${b.buildNumber}`, updated: mavenTimestamp(b.at) });
  for (const [k, at] of Object.entries(s.plain ?? {})) if (!files.has(k)) files.set(k, { value: version, updated: mavenTimestamp(at) });
  return {
    groupId,
    artifactId,
    version,
    versions: [],
    lastUpdated: mavenTimestamp(s.updated),
    snapshot: newest ? { timestamp: newest.timestamp, buildNumber: newest.buildNumber } : { localCopy: true },
    snapshotVersions: [...files.entries()].map(([k, f]) => ({ ...splitKey(k), ...f })),
    plugins: [],
  };
}

export function groupMetadata(g: GroupDoc): Metadata {
  const plugins = Object.entries(g.plugins)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([artifactId, p]) => ({ artifactId, prefix: p.prefix, ...(p.name ? { name: p.name } : {}) }));
  return { versions: [], snapshotVersions: [], plugins };
}

/** The builds a snapshot keeps: the newest `keep` (0: all); the rest are returned to delete. */
export function trimBuilds(s: SnapshotDoc, keep: number): { kept: SnapshotDoc; dropped: SnapshotDoc['builds'] } {
  if (keep <= 0 || s.builds.length <= keep) return { kept: s, dropped: [] };
  return { kept: { ...s, builds: s.builds.slice(-keep) }, dropped: s.builds.slice(0, -keep) };
}
