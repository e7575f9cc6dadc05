import { RegistryError } from '../../errors.ts';
import { comparePep440, isPrerelease, sameVersion } from '../../util/pep440.ts';
import { parseFilename } from './names.ts';
import type { ProjectPage, PyFile } from './page.ts';
import type { PypiReader } from './reader.ts';

/**
 * PyPI's JSON API (`/pypi/<project>/json`, `/pypi/<project>/<version>/json`), which poetry,
 * renovate and dependabot read: releases and files from the project's page (every repo kind has
 * one), `info` from the upload's metadata fields where the repo hosts the project (a remote's has
 * the name and version only: the simple API it caches carries no more).
 */

function fileObject(f: PyFile, project: string, base: string): Record<string, unknown> {
  let kind = 'sdist';
  let py = 'source';
  try {
    if (parseFilename(f.filename).kind === 'wheel') {
      kind = 'bdist_wheel';
      py = f.filename.slice(0, -4).split('-').at(-3) ?? 'py3';
    }
  } catch {
    // An upstream file name we cannot parse is listed as an sdist.
  }
  const t = f.uploadTime;
  return {
    filename: f.filename,
    url: `${base}/files/${project}/${encodeURIComponent(f.filename)}`,
    digests: f.sha256 ? { sha256: f.sha256 } : {},
    size: f.size ?? null,
    packagetype: kind,
    python_version: py,
    requires_python: f.requiresPython ?? null,
    upload_time: t ? t.replace(/\.\d+Z$|Z$/, '') : null,
    upload_time_iso_8601: t ?? null,
    yanked: f.yanked !== undefined,
    yanked_reason: typeof f.yanked === 'string' ? f.yanked : null,
    has_sig: false,
  };
}

function versionOf(f: PyFile): string | null {
  try {
    return parseFilename(f.filename).version;
  } catch {
    return null;
  }
}

/** project_urls as twine sends them ("Label, https://…") → PyPI's `{label: url}`. */
function projectUrls(v: string | string[] | undefined): Record<string, string> | null {
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf(',');
    if (i > 0) out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return list.length > 0 ? out : null;
}

export async function jsonApi(reader: PypiReader, page: ProjectPage, base: string, asked: string | undefined): Promise<unknown> {
  const releases = new Map<string, PyFile[]>();
  for (const f of page.files) {
    const v = versionOf(f);
    if (v === null) continue;
    const key = [...releases.keys()].find((k) => sameVersion(k, v)) ?? v;
    releases.set(key, [...(releases.get(key) ?? []), f]);
  }
  const versions = [...releases.keys()].sort(comparePep440);
  const live = versions.filter((v) => (releases.get(v) ?? []).some((f) => f.yanked === undefined));
  const latest = live.filter((v) => !isPrerelease(v)).pop() ?? live.pop() ?? versions.at(-1);
  const version = asked === undefined ? latest : versions.find((v) => sameVersion(v, asked));
  if (!version) throw new RegistryError('not_found', `not found: ${asked === undefined ? 'any release' : `version ${asked}`} of ${page.name}`, { code: 'NOT_FOUND' });
  const files = releases.get(version) ?? [];
  const fields = (await reader.info?.(page.name, version)) ?? {};
  const one = (k: string): string | null => {
    const v = fields[k];
    return v === undefined ? null : Array.isArray(v) ? (v[0] ?? null) : v;
  };
  const list = (k: string): string[] | null => {
    const v = fields[k];
    return v === undefined ? null : Array.isArray(v) ? v : [v];
  };
  const yanked = files.length > 0 && files.every((f) => f.yanked !== undefined);
  const reason = files.map((f) => f.yanked).find((y): y is string => typeof y === 'string') ?? null;
  const info = {
    name: page.name,
    version,
    summary: one('summary'),
    description: one('description') ?? '',
    description_content_type: one('description_content_type'),
    author: one('author'),
    author_email: one('author_email'),
    maintainer: one('maintainer'),
    maintainer_email: one('maintainer_email'),
    license: one('license') ?? one('license_expression'),
    keywords: one('keywords'),
    home_page: one('home_page'),
    download_url: one('download_url'),
    requires_python: one('requires_python') ?? files.find((f) => f.requiresPython)?.requiresPython ?? null,
    requires_dist: list('requires_dist'),
    classifiers: list('classifiers') ?? [],
    provides_extra: list('provides_extra'),
    project_urls: projectUrls(fields['project_urls']),
    package_url: `${base}/pypi/${page.name}/`,
    project_url: `${base}/pypi/${page.name}/`,
    release_url: `${base}/pypi/${page.name}/${version}/`,
    yanked,
    yanked_reason: yanked ? reason : null,
  };
  const out: Record<string, unknown> = { info, last_serial: page.lastSerial ?? 0, urls: files.map((f) => fileObject(f, page.name, base)), vulnerabilities: [] };
  if (asked === undefined) out['releases'] = Object.fromEntries(versions.map((v) => [v, (releases.get(v) ?? []).map((f) => fileObject(f, page.name, base))]));
  return out;
}
