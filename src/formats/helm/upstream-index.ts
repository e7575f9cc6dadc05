import { RegistryError } from '../../errors.ts';
import { checkNesting, parseIndexYaml, slicer } from './index-chunks.ts';
import { chartFile, newestFirst } from './index-file.ts';
import type { Entries, IndexEntry } from './index-file.ts';

export interface UpstreamIndex {
  entries: Entries;
  /** Our file name → the archive's real URL and its sha256 (hex) when the index gives one. */
  upstream: Map<string, { url: string; digest?: string }>;
  generated: string | undefined;
}

/** A name or version that is safe as a path segment and a file name (upstream indexes are not ours to trust). */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,249}$/;

/**
 * Parses an upstream index.yaml (JSON first when it looks like JSON: many times faster for the large
 * ones) and rewrites every http(s) chart URL, absolute or relative to the repository, to
 * `charts/<name>-<version>.tgz` here. Entries without a usable name, version or URL are dropped
 * (and logged); other URL schemes (oci://) are left as they are.
 */
export async function parseUpstreamIndex(text: string, baseUrl: string, warn: (msg: string) => void): Promise<UpstreamIndex> {
  let raw: Record<string, unknown>;
  let generated: string | undefined;
  if (/^\s*\{/.test(text)) {
    checkNesting(text, 'the upstream index', 'upstream');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new RegistryError('upstream', `the upstream index does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
    const o = doc && typeof doc === 'object' ? (doc as Record<string, unknown>) : {};
    const entries = o['entries'];
    if (!entries || typeof entries !== 'object' || Array.isArray(entries)) throw new RegistryError('upstream', 'the upstream index.yaml has no entries map');
    raw = entries as Record<string, unknown>;
    generated = typeof o['generated'] === 'string' ? o['generated'] : undefined;
  } else {
    ({ entries: raw, generated } = await parseIndexYaml(text));
  }
  const pause = slicer();
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const entries: Entries = new Map();
  const upstream = new Map<string, { url: string; digest?: string }>();
  let dropped = 0;
  for (const [key, list] of Object.entries(raw)) {
    await pause();
    if (!Array.isArray(list)) continue;
    const out: IndexEntry[] = [];
    for (const item of list) {
      const e = item as Record<string, unknown> | null;
      const name = typeof e?.['name'] === 'string' ? e['name'] : key;
      const version = e?.['version'];
      const urls = e?.['urls'];
      const first = Array.isArray(urls) ? urls[0] : undefined;
      if (!e || typeof version !== 'string' || !SAFE.test(name) || !SAFE.test(version) || typeof first !== 'string') {
        dropped++;
        continue;
      }
      let url: URL;
      try {
        url = new URL(first, base);
      } catch {
        dropped++;
        continue;
      }
      const entry: IndexEntry = { ...e, name, version, urls: Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [] };
      if (url.protocol === 'http:' || url.protocol === 'https:') {
        const file = chartFile(name, version);
        const digest = typeof e['digest'] === 'string' ? e['digest'].replace(/^sha256:/, '').toLowerCase() : undefined;
        upstream.set(file, /^[0-9a-f]{64}$/.test(digest ?? '') ? { url: url.href, digest: digest as string } : { url: url.href });
        entry.urls = [`charts/${file}`];
      }
      out.push(entry);
    }
    if (out.length > 0) entries.set(key, out.sort(newestFirst));
  }
  if (dropped > 0) warn(`upstream index: ${dropped} entries without a usable name, version or URL were left out`);
  return { entries, upstream, generated };
}
