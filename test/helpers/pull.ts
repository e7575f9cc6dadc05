import { createHash } from 'node:crypto';

export const PULL_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface PullResult {
  manifestDigest: string;
  blobs: number;
  bytes: number;
  /** X-Cache of every response, in order: manifest(s), then blobs. */
  cache: string[];
  ms: number;
  /** Time to the first byte of the first layer body, for coalescing tests. */
  firstLayerByteAt?: number;
}

interface Descriptor {
  digest: string;
  size: number;
  platform?: { architecture?: string; os?: string };
}

/**
 * Pulls like docker does: manifest by tag with the full Accept list, index → platform manifest,
 * config, then layers `concurrency` at a time; every body's sha256 is checked as it streams.
 * `base` is the registry root such that `${base}/v2/${name}/...` are the API URLs.
 */
export async function pullImage(
  base: string,
  name: string,
  ref: string,
  opts: { arch?: string; concurrency?: number; headers?: Record<string, string> } = {},
): Promise<PullResult> {
  const t0 = performance.now();
  const cache: string[] = [];
  const headers = opts.headers ?? {};
  const getManifest = async (r: string): Promise<{ doc: { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] }; digest: string }> => {
    const res = await fetch(`${base}/v2/${name}/manifests/${r}`, { headers: { ...headers, accept: PULL_ACCEPT } });
    if (res.status !== 200) throw new Error(`manifest ${name}:${r} → ${res.status} ${await res.text()}`);
    cache.push(res.headers.get('x-cache') ?? '');
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const announced = res.headers.get('docker-content-digest');
    if (announced && announced !== digest) throw new Error(`manifest digest ${digest} ≠ header ${announced}`);
    if (r.startsWith('sha256:') && r !== digest) throw new Error(`manifest digest ${digest} ≠ ${r}`);
    return { doc: JSON.parse(new TextDecoder().decode(bytes)) as never, digest };
  };
  let m = await getManifest(ref);
  const top = m.digest;
  if (m.doc.manifests) {
    const arch = opts.arch ?? 'amd64';
    const pick = m.doc.manifests.find((d) => d.platform?.architecture === arch) ?? m.doc.manifests[0];
    if (!pick) throw new Error('empty index');
    m = await getManifest(pick.digest);
  }
  const blobs = [m.doc.config, ...(m.doc.layers ?? [])].filter((d): d is Descriptor => d !== undefined);
  let bytes = 0;
  let firstLayerByteAt: number | undefined;
  const fetchBlob = async (d: Descriptor, isLayer: boolean): Promise<void> => {
    const res = await fetch(`${base}/v2/${name}/blobs/${d.digest}`, { headers });
    if (res.status !== 200 || !res.body) throw new Error(`blob ${d.digest} → ${res.status} ${await res.text()}`);
    cache.push(res.headers.get('x-cache') ?? '');
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of res.body) {
      if (isLayer && firstLayerByteAt === undefined) firstLayerByteAt = performance.now();
      h.update(chunk);
      n += chunk.byteLength;
    }
    const got = `sha256:${h.digest('hex')}`;
    if (got !== d.digest) throw new Error(`blob digest mismatch: ${got} ≠ ${d.digest}`);
    if (n !== d.size) throw new Error(`blob size ${n} ≠ ${d.size}`);
    bytes += n;
  };
  if (blobs[0]) await fetchBlob(blobs[0], false);
  const queue = blobs.slice(1);
  const workers = Array.from({ length: opts.concurrency ?? 3 }, async () => {
    for (let d = queue.shift(); d; d = queue.shift()) await fetchBlob(d, true);
  });
  await Promise.all(workers);
  return {
    manifestDigest: top,
    blobs: blobs.length,
    bytes,
    cache,
    ms: performance.now() - t0,
    ...(firstLayerByteAt !== undefined ? { firstLayerByteAt } : {}),
  };
}
