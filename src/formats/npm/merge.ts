import { RegistryError } from '../../errors.ts';
import { BASE_MARK, withTarball } from './packument.ts';
import type { Json, JsonObject, Packument } from './packument.ts';
import { tarballFile, tarballPath } from './names.ts';
import { compareSemver as compareVersions, isSemver as isVersion } from '../../util/semver.ts';

/**
 * How a hosted packument changes: a publish adds versions, a document PUT (npm deprecate, npm
 * unpublish of one version) changes deprecations and removes versions, dist-tag calls move tags.
 * Pure functions over a copy; the caller stores the result by compare-and-swap.
 */

const invalid = (m: string): RegistryError => new RegistryError('invalid', m, { code: 'INVALID_PUBLISH' });

/** Package-level fields a publish may set (the rest of the document is ours). */
const TOP_FIELDS = ['description', 'readme', 'readmeFilename', 'maintainers', 'keywords', 'license', 'repository', 'homepage', 'bugs', 'author', 'contributors'];

export interface NewVersion {
  version: string;
  manifest: JsonObject;
  file: string;
  integrity: string;
  shasum: string;
}

/** The versions a publish document adds, checked against the package name and the attachments it carried. */
export function versionsToPublish(name: string, doc: Packument, attached: ReadonlySet<string>): Array<{ version: string; manifest: JsonObject; file: string }> {
  if (doc.name !== name) throw invalid(`the document names ${JSON.stringify(doc.name)}, the URL ${JSON.stringify(name)}`);
  const out = Object.entries(doc.versions).map(([version, manifest]) => {
    if (!isVersion(version)) throw invalid(`${JSON.stringify(version)} is not a semver version`);
    if (manifest['name'] !== name || manifest['version'] !== version) throw invalid(`version ${version} names another package or version`);
    const file = tarballFile(name, version);
    // npm names a scoped package's attachment by the full name (`@scope/pkg-1.0.0.tgz`), other
    // clients by the tarball's file name; either is the same tarball, stored under its file name.
    if (!attached.has(file) && !attached.has(`${name}-${version}.tgz`)) throw invalid(`no attachment ${file} for version ${version}`);
    return { version, manifest, file };
  });
  if (out.length !== 1) throw invalid('a publish carries exactly one version');
  return out;
}

/** The latest tag after versions went: the highest remaining release (else any) version. */
function latestOf(versions: string[]): string | undefined {
  const sorted = [...versions].sort(compareVersions);
  return sorted.filter((v) => !v.includes('-')).pop() ?? sorted.pop();
}

/** `p` with `nv` published (409 if the version exists or existed). */
export function withPublished(p: Packument | null, name: string, incoming: Packument, nv: NewVersion, now: string): Packument {
  const next: Packument = p ?? { _id: name, name, 'dist-tags': {}, versions: {}, time: { created: now } };
  if (next.versions[nv.version] || next.time[nv.version]) {
    throw new RegistryError('conflict', `cannot publish over the previously published version ${nv.version} of ${name}`, { code: 'EPUBLISHCONFLICT' });
  }
  const dist = { ...(typeof nv.manifest['dist'] === 'object' && nv.manifest['dist'] !== null && !Array.isArray(nv.manifest['dist']) ? nv.manifest['dist'] : {}), integrity: nv.integrity, shasum: nv.shasum };
  const manifest: JsonObject = withTarball({ ...nv.manifest, _id: `${name}@${nv.version}`, dist }, `${BASE_MARK}${tarballPath(name, nv.file)}`);
  delete manifest['readme'];
  next.versions[nv.version] = manifest;
  next.time[nv.version] = now;
  next.time['modified'] = now;
  for (const f of TOP_FIELDS) if (incoming[f] !== undefined) next[f] = incoming[f] as Json;
  for (const [tag, v] of Object.entries(incoming['dist-tags'])) if (next.versions[v] && /^[A-Za-z0-9._~-]{1,64}$/.test(tag)) next['dist-tags'][tag] = v;
  if (!next['dist-tags']['latest']) next['dist-tags']['latest'] = latestOf(Object.keys(next.versions)) ?? nv.version;
  // The package's readme is its latest version's, as on the public registry (a prerelease under
  // another tag leaves it), when the publish document has none of its own at the top.
  const readme = nv.manifest['readme'];
  if (incoming['readme'] === undefined && typeof readme === 'string' && (next['readme'] === undefined || next['dist-tags']['latest'] === nv.version)) next['readme'] = readme;
  return next;
}

/**
 * `p` changed as a document PUT without attachments asks (npm deprecate, npm unpublish <v>): the
 * versions it leaves out are removed (`mayRemove`, else 403), deprecation messages are taken,
 * dist-tags pointing at existing versions too. It can add nothing: a new version needs its tarball.
 */
export function withDocument(p: Packument, incoming: Packument, mayRemove: boolean, now: string): { next: Packument; removed: string[] } {
  const next = p;
  const removed = Object.keys(next.versions).filter((v) => !incoming.versions[v]);
  const added = Object.keys(incoming.versions).filter((v) => !next.versions[v]);
  if (added.length > 0) throw invalid(`version ${added[0]} is new: publish it with its tarball`);
  if (removed.length > 0 && !mayRemove) throw new RegistryError('denied', `removing versions (${removed.join(', ')}) needs delete permission`, { code: 'DENIED' });
  for (const v of removed) delete next.versions[v];
  for (const [v, m] of Object.entries(incoming.versions)) {
    const mine = next.versions[v];
    if (!mine) continue;
    const dep = m['deprecated'];
    if (typeof dep === 'string' && dep !== '') mine['deprecated'] = dep;
    else delete mine['deprecated'];
  }
  const tags: Record<string, string> = {};
  for (const [tag, v] of Object.entries(incoming['dist-tags'])) if (next.versions[v]) tags[tag] = v;
  next['dist-tags'] = tags;
  if (!tags['latest']) {
    const latest = latestOf(Object.keys(next.versions));
    if (latest) tags['latest'] = latest;
  }
  next.time['modified'] = now;
  return { next, removed };
}

/** `p` with a dist-tag set (the version must exist) or removed (`latest` cannot be). */
export function withTag(p: Packument, tag: string, version: string | null, now: string): Packument {
  if (!/^[A-Za-z0-9._~-]{1,64}$/.test(tag) || isVersion(tag)) throw invalid(`${JSON.stringify(tag)} is not a valid dist-tag`);
  if (version === null) {
    if (tag === 'latest') throw invalid('the latest tag cannot be removed');
    delete p['dist-tags'][tag];
  } else {
    if (!p.versions[version]) throw new RegistryError('not_found', `version ${version} of ${p.name} does not exist`, { code: 'NOT_FOUND' });
    p['dist-tags'][tag] = version;
  }
  p.time['modified'] = now;
  return p;
}
