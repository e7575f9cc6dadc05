import { parseDigest } from '../../storage/digest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import { BROWSE_MAX, browsePage } from '../format.ts';
import type { BrowseCell, BrowsePage } from '../format.ts';
import { layout } from './layout.ts';
import { listImages } from './listing.ts';
import type { ManifestDoc, TagDoc } from './manifest-fetch.ts';
import { isValidName, parseReference } from './reference.ts';
import { MAX_MANIFEST } from './walk.ts';
import { fmtBytes } from '../../util/bytes.ts';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): string => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');

/**
 * The web UI's view of a Docker repo's stored content (local pushes and remote caches alike):
 * '' = images, 'name' = its tags, 'name:tag' or 'name@digest' = one manifest with its platforms,
 * layers, config, annotations and referrers. Reads the store only; never asks an upstream.
 */
export async function browseDocker(d: { meta: MetaStore; blobs: BlobStore }, repo: string, path: string, origin: string): Promise<BrowsePage | null> {
  const host = new URL(origin).host;
  const tls = origin.startsWith('https:') ? '' : ' --tls-verify=false';
  if (path === '') {
    const page = browsePage(repo);
    const images = await listImages(d.meta, repo);
    page.more = images.length > BROWSE_MAX;
    page.entries = images.slice(0, BROWSE_MAX).map((name) => ({ name, path: name }));
    page.facts.push(['images', String(images.length)]);
    return page;
  }
  const at = path.indexOf('@');
  const colon = at < 0 ? path.lastIndexOf(':') : -1;
  const image = at >= 0 ? path.slice(0, at) : colon > path.lastIndexOf('/') ? path.slice(0, colon) : path;
  if (!isValidName(image)) return null;
  const refText = path.slice(image.length + 1);
  if (refText === '') return tagsPage(d, repo, image, host, tls);
  const ref = parseReference(refText);
  if (!ref.ok) return null;
  let digest = ref.ref.kind === 'digest' ? ref.ref.digest : null;
  if (ref.ref.kind === 'tag') {
    const tag = await d.meta.get<TagDoc>(layout.dockerTag(repo, image, ref.ref.tag));
    const p = tag ? parseDigest(tag.digest) : null;
    digest = p?.ok ? p.digest : null;
  }
  const link = digest ? await d.meta.get<ManifestDoc>(layout.dockerManifest(repo, image, digest)) : null;
  if (!digest || !link) return null;
  const bytes = await d.blobs.readAll(digest, MAX_MANIFEST).catch(() => null);
  let doc: unknown = null;
  try {
    doc = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  } catch {
    doc = null;
  }
  const page = browsePage(path);
  page.parent = image;
  // podman and helm push manifests without a mediaType field: the type they were stored with says it.
  page.facts.push(['digest', digest.value], ['media type', (isObj(doc) ? str(doc['mediaType']) : '') || str(link.mediaType)], ['manifest size', fmtBytes(bytes?.byteLength ?? 0)]);
  if (isObj(doc)) {
    describeManifest(doc, image, page);
    await platformSizes(d, repo, image, doc, page);
    await configFacts(d.blobs, doc, page);
  }
  const refs = await d.meta.list(layout.dockerReferrersDir(repo, image, digest));
  const rows: BrowseCell[][] = [];
  for (const name of refs.slice(0, BROWSE_MAX)) {
    const desc = await d.meta.get<Obj>(`${layout.dockerReferrersDir(repo, image, digest)}/${name}`);
    if (!isObj(desc)) continue;
    const rd = str(desc['digest']);
    rows.push([{ text: str(desc['artifactType']) || str(desc['mediaType']) }, { text: rd, path: `${image}@${rd}` }, { text: num(desc['size']) }, { text: annotations(desc['annotations']) }]);
  }
  if (rows.length > 0) page.tables.push({ caption: 'Referrers (signatures, SBOMs, attestations)', head: ['artifact type', 'digest', 'size', 'annotations'], rows });
  const shown = ref.ref.kind === 'tag' ? `${image}:${ref.ref.tag}` : `${image}@${digest.value}`;
  const kind = artifactKind(doc);
  const plain = tls === '' ? '' : ' --plain-http';
  if (kind === 'helm') {
    // A Helm chart pushed as OCI: podman and docker refuse it ("unsupported image-specific operation").
    const version = ref.ref.kind === 'tag' ? ` --version ${ref.ref.tag}` : '';
    page.commands.push({ label: 'helm', text: `helm pull oci://${host}/${repo}/${image}${version}${plain}` });
  } else if (kind === 'artifact') {
    page.commands.push({ label: 'oras', text: `oras pull${plain} ${host}/${repo}/${shown}` });
  } else {
    page.commands.push({ label: 'podman', text: `podman pull${tls} ${host}/${repo}/${shown}` }, { label: 'docker', text: `docker pull ${host}/${repo}/${shown}` });
  }
  page.commands.push(
    { label: 'skopeo', text: `skopeo inspect${tls} docker://${host}/${repo}/${shown}` },
    { label: 'curl', text: `curl -s -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' ${origin}/repo/${repo}/v2/${image}/manifests/${ref.ref.kind === 'tag' ? ref.ref.tag : digest.value}` },
  );
  return page;
}

const IMAGE_CONFIGS = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);

/** What a manifest holds, for the commands that can fetch it: an image, a Helm chart, or another artifact. */
function artifactKind(doc: unknown): 'image' | 'helm' | 'artifact' {
  if (!isObj(doc) || Array.isArray(doc['manifests'])) return 'image';
  const config = isObj(doc['config']) ? str(doc['config']['mediaType']) : '';
  if (config === 'application/vnd.cncf.helm.config.v1+json') return 'helm';
  if (str(doc['artifactType']) !== '' || (config !== '' && !IMAGE_CONFIGS.has(config))) return 'artifact';
  return 'image';
}

async function tagsPage(d: { meta: MetaStore }, repo: string, image: string, host: string, tls: string): Promise<BrowsePage | null> {
  const dir = layout.dockerImageDir(repo, image);
  const tags = await d.meta.list(`${dir}/_tags`);
  const manifests = (await Promise.all((await d.meta.list(`${dir}/_manifests`)).map((alg) => d.meta.list(`${dir}/_manifests/${alg}`)))).flat();
  if (tags.length === 0 && manifests.length === 0) return null;
  const page = browsePage(image);
  page.parent = '';
  page.more = tags.length > BROWSE_MAX;
  for (const tag of tags.slice(0, BROWSE_MAX)) {
    const doc = await d.meta.get<TagDoc>(layout.dockerTag(repo, image, tag));
    page.entries.push({ name: tag, path: `${image}:${tag}`, ...(doc ? { size: doc.size, note: doc.digest, ...(doc.fetchedAt ? { at: doc.fetchedAt } : {}) } : {}) });
  }
  page.facts.push(['tags', String(tags.length)], ['manifests', String(manifests.length)]);
  page.commands.push({ label: 'podman', text: `podman pull${tls} ${host}/${repo}/${image}:${tags[0] ?? 'latest'}` });
  return page;
}

/** Platforms of an index, or config and layers of an image; annotations as facts. */
function describeManifest(doc: Obj, image: string, page: BrowsePage): void {
  const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
  const manifests = list(doc['manifests']);
  if (manifests.length > 0) {
    page.tables.push({
      caption: 'Platforms',
      head: ['platform', 'digest', 'image size', 'manifest size', 'media type'],
      rows: manifests.map((m) => {
        const p = isObj(m['platform']) ? m['platform'] : {};
        const platform = [str(p['os']), str(p['architecture']), str(p['variant'])].filter((x) => x !== '').join('/');
        // The image size is filled in by platformSizes from the stored child manifest.
        return [{ text: platform || '(none)' }, { text: str(m['digest']), path: `${image}@${str(m['digest'])}` }, { text: '' }, { text: typeof m['size'] === 'number' ? fmtBytes(m['size']) : '' }, { text: str(m['mediaType']) }];
      }),
    });
  }
  const cfg = isObj(doc['config']) ? doc['config'] : null;
  const layers = list(doc['layers']);
  if (cfg || layers.length > 0) {
    const rows = [...(cfg ? [{ role: 'config', d: cfg }] : []), ...layers.map((d, i) => ({ role: `layer ${i + 1}`, d }))];
    page.tables.push({ caption: 'Config and layers', head: ['', 'digest', 'size', 'media type'], rows: rows.map((r) => [{ text: r.role }, { text: str(r.d['digest']) }, { text: typeof r.d['size'] === 'number' ? fmtBytes(r.d['size']) : '' }, { text: str(r.d['mediaType']) }]) });
    const total = layers.reduce((n, l) => n + sizeOf(l), 0);
    page.facts.push(['layers', `${layers.length} (${fmtBytes(total)})`], ['image size', `${fmtBytes(total + (cfg ? sizeOf(cfg) : 0))} (config and layers, compressed)`]);
  }
  if (isObj(doc['subject'])) page.facts.push(['subject', str(doc['subject']['digest'])]);
  if (typeof doc['artifactType'] === 'string') page.facts.push(['artifact type', doc['artifactType']]);
  if (isObj(doc['annotations'])) for (const [k, v] of Object.entries(doc['annotations']).slice(0, 50)) page.facts.push([k, str(v)]);
}

/** Child manifests an index page reads for their sizes: a real index lists a few dozen platforms. */
const MAX_PLATFORMS = 64;
const sizeOf = (o: Obj): number => (typeof o['size'] === 'number' && Number.isFinite(o['size']) ? o['size'] : 0);

/**
 * An index's platforms with their image sizes (config and layers, compressed) read from the
 * stored child manifests, and the whole index's size with layers shared between platforms counted
 * once. A platform this image does not hold (a remote has not pulled it yet) is "not cached"; the
 * total then says so.
 */
async function platformSizes(d: { meta: MetaStore; blobs: BlobStore }, repo: string, image: string, doc: Obj, page: BrowsePage): Promise<void> {
  const table = page.tables.find((t) => t.caption === 'Platforms');
  const manifests = Array.isArray(doc['manifests']) ? doc['manifests'].filter(isObj) : [];
  if (!table || manifests.length === 0) return;
  const unique = new Map<string, number>();
  let missing = 0;
  for (const [i, m] of manifests.slice(0, MAX_PLATFORMS).entries()) {
    const p = parseDigest(str(m['digest']));
    // Only a manifest this image holds: the blob store is shared by every repo.
    const held = p.ok && (await d.meta.get<ManifestDoc>(layout.dockerManifest(repo, image, p.digest))) !== null;
    const bytes = p.ok && held ? await d.blobs.readAll(p.digest, MAX_MANIFEST).catch(() => null) : null;
    let child: unknown = null;
    try {
      child = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
    } catch {
      child = null;
    }
    const cell = table.rows[i]?.[2];
    if (!isObj(child) || !cell) {
      missing++;
      if (cell) cell.text = 'not cached';
      continue;
    }
    const parts = [...(isObj(child['config']) ? [child['config']] : []), ...(Array.isArray(child['layers']) ? child['layers'].filter(isObj) : [])];
    cell.text = fmtBytes(parts.reduce((n, x) => n + sizeOf(x), 0));
    for (const x of parts) unique.set(str(x['digest']), sizeOf(x));
  }
  missing += Math.max(0, manifests.length - MAX_PLATFORMS);
  const total = [...unique.values()].reduce((n, x) => n + x, 0);
  page.facts.push(['total size', `${fmtBytes(total)} (every platform, shared layers once${missing > 0 ? `; ${missing} platform${missing === 1 ? '' : 's'} not cached` : ''})`]);
}

const MAX_CONFIG = 1 << 20;

/** An image config's key facts (what `docker inspect` shows first): created, platform, entrypoint, cmd, labels. */
async function configFacts(blobs: BlobStore, doc: Obj, page: BrowsePage): Promise<void> {
  const cfg = isObj(doc['config']) ? doc['config'] : null;
  const d = cfg ? parseDigest(str(cfg['digest'])) : null;
  if (!cfg || !d?.ok || !/image\.config|container\.image/.test(str(cfg['mediaType']))) return;
  const bytes = await blobs.readAll(d.digest, MAX_CONFIG).catch(() => null);
  let c: unknown = null;
  try {
    c = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null;
  } catch {
    return;
  }
  if (!isObj(c)) return;
  const inner = isObj(c['config']) ? c['config'] : {};
  const joined = (v: unknown): string => (Array.isArray(v) ? v.map((x) => JSON.stringify(String(x))).join(' ') : '');
  if (str(c['created'])) page.facts.push(['created', str(c['created'])]);
  const platform = [str(c['os']), str(c['architecture']), str(c['variant'])].filter((x) => x !== '').join('/');
  if (platform) page.facts.push(['platform', platform]);
  if (joined(inner['Entrypoint'])) page.facts.push(['entrypoint', joined(inner['Entrypoint'])]);
  if (joined(inner['Cmd'])) page.facts.push(['cmd', joined(inner['Cmd'])]);
  if (isObj(inner['Labels'])) for (const [k, v] of Object.entries(inner['Labels']).slice(0, 30)) page.facts.push([`label ${k}`, str(v)]);
}

function annotations(v: unknown): string {
  if (!isObj(v)) return '';
  return Object.entries(v)
    .slice(0, 10)
    .map(([k, x]) => `${k}=${str(x)}`)
    .join('; ');
}
