import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/**
 * Test images made at test time: real gzip'd tar layers of random (incompressible) bytes, a config
 * with matching diff_ids, Docker schema2 or OCI manifests and multi-platform indexes. Small enough
 * to keep in memory; bench/ streams its large layers instead.
 */
export interface Blob {
  digest: string;
  bytes: Uint8Array;
  mediaType: string;
}

export interface TestImage {
  manifest: Blob;
  config: Blob;
  layers: Blob[];
}

export function sha256(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

export async function makeTar(files: Array<{ name: string; data: Uint8Array }>): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((res, rej) => {
    p.on('end', () => res());
    p.on('error', rej);
  });
  for (const f of files) p.entry({ name: f.name, size: f.data.byteLength, mode: 0o644, mtime: new Date(0) }, Buffer.from(f.data));
  p.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

export async function makeLayer(size: number, label: string): Promise<{ layer: Blob; diffId: string }> {
  const tar = await makeTar([{ name: `data/${label}.bin`, data: randomBytes(size) }]);
  const gz = new Uint8Array(gzipSync(tar, { level: 1 }));
  return {
    layer: { digest: sha256(gz), bytes: gz, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' },
    diffId: sha256(tar),
  };
}

export async function makeImage(opts: {
  layerSizes: number[];
  arch?: string;
  oci?: boolean;
  /** Makes the image a referrer of this manifest (OCI `subject`). */
  subject?: Blob;
  annotations?: Record<string, string>;
}): Promise<TestImage> {
  const oci = opts.oci ?? false;
  const made = await Promise.all(opts.layerSizes.map((s, i) => makeLayer(s, `layer${i}`)));
  const layers = made.map((m) => ({
    ...m.layer,
    mediaType: oci ? 'application/vnd.oci.image.layer.v1.tar+gzip' : m.layer.mediaType,
  }));
  const cfgBytes = new TextEncoder().encode(
    JSON.stringify({
      architecture: opts.arch ?? 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/true'] },
      rootfs: { type: 'layers', diff_ids: made.map((m) => m.diffId) },
      history: made.map(() => ({ created_by: 'binaryrepo test' })),
    }),
  );
  const cfgType = oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json';
  const config: Blob = { digest: sha256(cfgBytes), bytes: cfgBytes, mediaType: cfgType };
  const mType = oci ? 'application/vnd.oci.image.manifest.v1+json' : 'application/vnd.docker.distribution.manifest.v2+json';
  const manifestBytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mType,
      config: { mediaType: cfgType, size: cfgBytes.byteLength, digest: config.digest },
      layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.bytes.byteLength, digest: l.digest })),
      ...(opts.subject ? { subject: { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.bytes.byteLength } } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    }),
  );
  return { manifest: { digest: sha256(manifestBytes), bytes: manifestBytes, mediaType: mType }, config, layers };
}

export function makeIndex(images: Array<{ image: TestImage; arch: string }>): Blob {
  const bytes = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: images.map(({ image, arch }) => ({
        mediaType: image.manifest.mediaType,
        size: image.manifest.bytes.byteLength,
        digest: image.manifest.digest,
        platform: { architecture: arch, os: 'linux' },
      })),
    }),
  );
  return { digest: sha256(bytes), bytes, mediaType: 'application/vnd.oci.image.index.v1+json' };
}

/** Pushes blobs and a manifest with the plain Registry v2 API (monolithic uploads). */
export async function pushBlob(base: string, name: string, blob: Blob, headers: Record<string, string> = {}): Promise<void> {
  const head = await fetch(`${base}/v2/${name}/blobs/${blob.digest}`, { method: 'HEAD', headers });
  if (head.status === 200) return;
  const start = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST', headers });
  if (start.status !== 202) throw new Error(`upload start ${start.status}: ${await start.text()}`);
  const loc = new URL(start.headers.get('location') ?? '', base);
  loc.searchParams.set('digest', blob.digest);
  const put = await fetch(loc, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/octet-stream' },
    body: blob.bytes,
  });
  if (put.status !== 201) throw new Error(`upload ${blob.digest} ${put.status}: ${await put.text()}`);
}

export async function pushManifest(base: string, name: string, ref: string, m: Blob, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${base}/v2/${name}/manifests/${ref}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': m.mediaType },
    body: m.bytes,
  });
  if (res.status !== 201) throw new Error(`manifest ${name}:${ref} ${res.status}: ${await res.text()}`);
}

export async function pushImage(base: string, name: string, tag: string, img: TestImage, headers: Record<string, string> = {}): Promise<void> {
  for (const b of [img.config, ...img.layers]) await pushBlob(base, name, b, headers);
  await pushManifest(base, name, tag, img.manifest, headers);
}

/** A two-platform OCI index (amd64, arm64) pushed with its manifests and blobs; returns the index. */
export async function pushMultiArch(base: string, name: string, tag: string): Promise<Blob> {
  return (await pushPlatforms(base, name, tag)).index;
}

/** pushMultiArch, returning the platform images too (layer sizes per platform can be chosen). */
export async function pushPlatforms(
  base: string,
  name: string,
  tag: string,
  sizes: { amd: number; arm: number } = { amd: 100_000, arm: 110_000 },
): Promise<{ index: Blob; amd: TestImage; arm: TestImage }> {
  const amd = await makeImage({ layerSizes: [sizes.amd], oci: true, arch: 'amd64' });
  const arm = await makeImage({ layerSizes: [sizes.arm], oci: true, arch: 'arm64' });
  for (const i of [amd, arm]) {
    for (const b of [i.config, ...i.layers]) await pushBlob(base, name, b);
    await pushManifest(base, name, i.manifest.digest, i.manifest);
  }
  const index = makeIndex([{ image: amd, arch: 'amd64' }, { image: arm, arch: 'arm64' }]);
  await pushManifest(base, name, tag, index);
  return { index, amd, arm };
}
