import { compareMavenVersions, isSnapshotVersion } from '../../util/maven-version.ts';
import { child, escapeXml, parseXml, textOf } from './xml.ts';

/** One timestamped file of a snapshot build, per (classifier, extension). */
export interface SnapshotVersion {
  classifier?: string | undefined;
  extension: string;
  /** The file's version: `1.0-20261201.101010-3` (or `1.0-SNAPSHOT` for a non-unique one). */
  value: string;
  /** yyyyMMddHHmmss, UTC. */
  updated: string;
}

export interface Plugin {
  prefix: string;
  artifactId: string;
  name?: string | undefined;
}

/**
 * A `maven-metadata.xml` of any level: an artifact's (versions, latest, release), a snapshot
 * version's (the newest build and its files), or a group's (the plugins' prefixes).
 */
export interface Metadata {
  groupId?: string | undefined;
  artifactId?: string | undefined;
  version?: string | undefined;
  latest?: string | undefined;
  release?: string | undefined;
  versions: string[];
  lastUpdated?: string | undefined;
  snapshot?: { timestamp?: string | undefined; buildNumber?: number | undefined; localCopy?: boolean } | undefined;
  snapshotVersions: SnapshotVersion[];
  plugins: Plugin[];
}

export const emptyMetadata = (): Metadata => ({ versions: [], snapshotVersions: [], plugins: [] });

/** Reads metadata safely (src/formats/maven/xml.ts); throws 'invalid' on anything that is not. */
export function parseMetadata(text: string): Metadata {
  const root = parseXml(text);
  if (root.name !== 'metadata') throw new Error(`the root element is <${root.name}>, not <metadata>`);
  const versioning = child(root, 'versioning');
  const snap = child(versioning, 'snapshot');
  const build = textOf(snap, 'buildNumber');
  return {
    groupId: textOf(root, 'groupId'),
    artifactId: textOf(root, 'artifactId'),
    version: textOf(root, 'version'),
    latest: textOf(versioning, 'latest'),
    release: textOf(versioning, 'release'),
    versions: (child(versioning, 'versions')?.children ?? []).filter((c) => c.name === 'version').map((c) => c.text.trim()).filter((v) => v !== ''),
    lastUpdated: textOf(versioning, 'lastUpdated'),
    snapshot: snap ? { timestamp: textOf(snap, 'timestamp'), buildNumber: build && /^\d+$/.test(build) ? Number(build) : undefined, ...(textOf(snap, 'localCopy') === 'true' ? { localCopy: true } : {}) } : undefined,
    snapshotVersions: (child(versioning, 'snapshotVersions')?.children ?? [])
      .filter((c) => c.name === 'snapshotVersion')
      .map((c) => ({ classifier: textOf(c, 'classifier'), extension: textOf(c, 'extension') ?? '', value: textOf(c, 'value') ?? '', updated: textOf(c, 'updated') ?? '' }))
      .filter((s) => s.extension !== '' && s.value !== ''),
    plugins: (child(root, 'plugins')?.children ?? [])
      .filter((c) => c.name === 'plugin')
      .map((c) => ({ prefix: textOf(c, 'prefix') ?? '', artifactId: textOf(c, 'artifactId') ?? '', name: textOf(c, 'name') }))
      .filter((p) => p.prefix !== '' && p.artifactId !== ''),
  };
}

const el = (name: string, v: string | number | undefined, pad: string): string => (v === undefined ? '' : `${pad}<${name}>${escapeXml(String(v))}</${name}>\n`);

/** The document as Maven writes it (same element order, two-space indent). */
export function renderMetadata(m: Metadata): string {
  let s = '<?xml version="1.0" encoding="UTF-8"?>\n<metadata modelVersion="1.1.0">\n';
  s += el('groupId', m.groupId, '  ') + el('artifactId', m.artifactId, '  ') + el('version', m.version, '  ');
  const hasVersioning = m.latest || m.release || m.versions.length > 0 || m.snapshot || m.snapshotVersions.length > 0 || m.lastUpdated;
  if (hasVersioning) {
    s += '  <versioning>\n' + el('latest', m.latest, '    ') + el('release', m.release, '    ');
    if (m.snapshot) {
      s += '    <snapshot>\n' + el('timestamp', m.snapshot.timestamp, '      ') + el('buildNumber', m.snapshot.buildNumber, '      ');
      s += (m.snapshot.localCopy ? '      <localCopy>true</localCopy>\n' : '') + '    </snapshot>\n';
    }
    if (m.versions.length > 0) s += `    <versions>\n${m.versions.map((v) => el('version', v, '      ')).join('')}    </versions>\n`;
    s += el('lastUpdated', m.lastUpdated, '    ');
    if (m.snapshotVersions.length > 0) {
      s += '    <snapshotVersions>\n';
      for (const v of m.snapshotVersions) s += `      <snapshotVersion>\n${el('classifier', v.classifier, '        ')}${el('extension', v.extension, '        ')}${el('value', v.value, '        ')}${el('updated', v.updated, '        ')}      </snapshotVersion>\n`;
      s += '    </snapshotVersions>\n';
    }
    s += '  </versioning>\n';
  }
  if (m.plugins.length > 0) {
    s += '  <plugins>\n';
    for (const p of m.plugins) s += `    <plugin>\n${el('name', p.name, '      ')}${el('prefix', p.prefix, '      ')}${el('artifactId', p.artifactId, '      ')}    </plugin>\n`;
    s += '  </plugins>\n';
  }
  return `${s}</metadata>\n`;
}

const maxBy = (xs: Array<string | undefined>, cmp: (a: string, b: string) => number): string | undefined => xs.reduce<string | undefined>((m, x) => (x === undefined ? m : m === undefined || cmp(x, m) > 0 ? x : m), undefined);
const plain = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Versions in Maven's order, each once. */
export const sortVersions = (vs: Iterable<string>): string[] => [...new Set(vs)].sort(compareMavenVersions);

/** latest and release over a version list: the maximum, and the maximum that is not a snapshot. */
export function latestAndRelease(versions: string[]): { latest?: string; release?: string } {
  const latest = maxBy(versions, compareMavenVersions);
  const release = maxBy(versions.filter((v) => !isSnapshotVersion(v)), compareMavenVersions);
  return { ...(latest ? { latest } : {}), ...(release ? { release } : {}) };
}

/**
 * The metadata of several repos as one (a virtual repo): versions unioned, latest and release the
 * maximum, lastUpdated the maximum, the newest snapshot build, snapshotVersions merged per
 * (classifier, extension) keeping the newest, plugins unioned by artifactId (the first repo wins).
 */
export function mergeMetadata(parts: Metadata[]): Metadata {
  const first = parts[0] ?? emptyMetadata();
  const versions = sortVersions(parts.flatMap((p) => p.versions));
  const lr = latestAndRelease([...versions, ...parts.flatMap((p) => [p.latest, p.release].filter((v): v is string => v !== undefined))]);
  const snaps = parts.map((p) => p.snapshot).filter((s) => s !== undefined);
  const snapshot = snaps.reduce<Metadata['snapshot']>((m, s) => (!m || (s.timestamp ?? '') > (m.timestamp ?? '') || ((s.timestamp ?? '') === (m.timestamp ?? '') && (s.buildNumber ?? 0) > (m.buildNumber ?? 0)) ? s : m), undefined);
  const byKey = new Map<string, SnapshotVersion>();
  for (const p of parts) {
    for (const sv of p.snapshotVersions) {
      const k = `${sv.classifier ?? ''}|${sv.extension}`;
      const have = byKey.get(k);
      if (!have || sv.updated > have.updated) byKey.set(k, sv);
    }
  }
  const plugins = new Map<string, Plugin>();
  for (const p of parts) for (const pl of p.plugins) if (!plugins.has(pl.artifactId)) plugins.set(pl.artifactId, pl);
  return {
    groupId: first.groupId ?? parts.find((p) => p.groupId)?.groupId,
    artifactId: first.artifactId ?? parts.find((p) => p.artifactId)?.artifactId,
    version: first.version ?? parts.find((p) => p.version)?.version,
    ...(versions.length > 0 ? lr : {}),
    versions,
    lastUpdated: maxBy(parts.map((p) => p.lastUpdated), plain),
    snapshot,
    snapshotVersions: [...byKey.values()],
    plugins: [...plugins.values()],
  };
}

/** Epoch ms as Maven's yyyyMMddHHmmss (UTC). */
export const mavenTimestamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
