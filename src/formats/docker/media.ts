/** Media types of the Docker and OCI manifest formats, and what we ask upstreams for. */
export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/**
 * Sent upstream whatever the client asked: a narrower list makes the CNCF registry convert schema2
 * to schema1 (another digest), and we store one byte-exact copy for every client.
 */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

/** Media type of a manifest whose upstream Content-Type is missing or generic. */
export function sniffManifestMediaType(bytes: Uint8Array): string {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: unknown; manifests?: unknown };
    if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
    return Array.isArray(doc.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
  } catch {
    return MEDIA.ociManifest;
  }
}
