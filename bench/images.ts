import { createHash, randomBytes } from 'node:crypto';
import { makeImage, pushBlob, pushImage, pushManifest, sha256 } from '../test/helpers/images.ts';

/** The synthetic image set: incompressible random layers, pushed into the upstream registry. */
export interface BenchImage {
  name: string;
  tag: string;
  bytes: number;
}

export async function seedImages(upstream: string, quick: boolean, prefix = 'bench'): Promise<BenchImage[]> {
  const specs: Array<{ name: string; sizes: number[] }> = quick
    ? [
        { name: `${prefix}/small`, sizes: [2_000_000] },
        { name: `${prefix}/medium`, sizes: Array(5).fill(6_000_000) as number[] },
        { name: `${prefix}/many`, sizes: Array(20).fill(100_000) as number[] },
      ]
    : [
        { name: `${prefix}/small`, sizes: [2_000_000] },
        { name: `${prefix}/medium`, sizes: Array(5).fill(20_000_000) as number[] },
        { name: `${prefix}/many`, sizes: Array(50).fill(100_000) as number[] },
      ];
  const out: BenchImage[] = [];
  for (const s of specs) {
    const img = await makeImage({ layerSizes: s.sizes });
    await pushImage(upstream, s.name, '1', img);
    out.push({ name: s.name, tag: '1', bytes: [img.config, ...img.layers].reduce((a, b) => a + b.bytes.byteLength, 0) });
  }
  return out;
}

/**
 * One image whose single layer is `size` random bytes, streamed into the upstream in 8 MiB chunks
 * (never held whole): the memory bench's 1 GiB layer. The registry does not look inside layers, so
 * random bytes are as good as a tar for measuring transport.
 */
export async function seedBigImage(upstream: string, name: string, size: number): Promise<BenchImage> {
  const CHUNK = 8 * 1024 * 1024;
  const start = await fetch(`${upstream}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  let loc = new URL(start.headers.get('location') ?? '', upstream);
  const h = createHash('sha256');
  for (let off = 0; off < size; off += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, size - off));
    h.update(chunk);
    const r = await fetch(loc, { method: 'PATCH', body: chunk, headers: { 'content-type': 'application/octet-stream' } });
    if (r.status !== 202) throw new Error(`big layer chunk: ${r.status}`);
    loc = new URL(r.headers.get('location') ?? '', upstream);
  }
  const digest = `sha256:${h.digest('hex')}`;
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT' });
  if (put.status !== 201) throw new Error(`big layer: ${put.status} ${await put.text()}`);
  const cfg = new TextEncoder().encode(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digest] } }));
  const config = { digest: sha256(cfg), bytes: cfg, mediaType: 'application/vnd.docker.container.image.v1+json' };
  await pushBlob(upstream, name, config);
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: config.mediaType, size: cfg.byteLength, digest: config.digest },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size, digest }],
  }));
  await pushManifest(upstream, name, '1', { digest: sha256(manifest), bytes: manifest, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' });
  return { name, tag: '1', bytes: size + cfg.byteLength };
}
