import { isRegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import { paginate } from './listing.ts';
import { MEDIA } from './media.ts';
import { API_VERSION_HEADER, ociResponse } from './responses.ts';
import type { DockerRouterDeps } from './router-deps.ts';

/** Content discovery: tags list, catalog (both with n/last and a Link header) and referrers. */

function json(body: unknown, head: boolean, extra: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(head ? null : text, {
    headers: {
      ...API_VERSION_HEADER,
      'content-type': 'application/json',
      'content-length': String(new TextEncoder().encode(text).byteLength),
      ...extra,
    },
  });
}

function linkHeader(path: string, n: string | null, next: string | undefined): Record<string, string> {
  if (next === undefined) return {};
  const q = new URLSearchParams({ ...(n ? { n } : {}), last: next });
  return { link: `<${path}?${q.toString()}>; rel="next"` };
}

export async function handleTags(req: Request, name: string, d: DockerRouterDeps, head: boolean): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const page = paginate(await d.repo.tags(name, req.headers.get('via') ?? undefined), q.get('n') ?? undefined, q.get('last') ?? undefined);
  return json({ name, tags: page.items }, head, linkHeader(`${d.base}/${name}/tags/list`, q.get('n'), page.next));
}

export async function handleCatalog(req: Request, d: DockerRouterDeps, head: boolean): Promise<Response> {
  const q = new URL(req.url).searchParams;
  const page = paginate(await d.repo.catalog(), q.get('n') ?? undefined, q.get('last') ?? undefined);
  return json({ repositories: page.items }, head, linkHeader(`${d.base}/_catalog`, q.get('n'), page.next));
}

export async function handleReferrers(req: Request, name: string, digestText: string, d: DockerRouterDeps, head: boolean): Promise<Response> {
  const dg = parseDigest(digestText);
  if (!dg.ok) return ociResponse(400, 'DIGEST_INVALID', 'invalid digest', head);
  const artifactType = new URL(req.url).searchParams.get('artifactType');
  let manifests: Array<Record<string, unknown>>;
  try {
    manifests = await d.repo.referrers(name, dg.digest, req.headers.get('via') ?? undefined);
  } catch (e) {
    // 404 (not 405) tells OCI clients to fall back to the referrers tag schema.
    if (isRegistryError(e) && e.kind === 'unsupported') return ociResponse(404, 'UNSUPPORTED', e.message, head);
    throw e;
  }
  if (artifactType !== null) manifests = manifests.filter((m) => m['artifactType'] === artifactType);
  const text = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests });
  return new Response(head ? null : text, {
    headers: {
      ...API_VERSION_HEADER,
      'content-type': MEDIA.ociIndex,
      'content-length': String(new TextEncoder().encode(text).byteLength),
      ...(artifactType !== null ? { 'oci-filters-applied': 'artifactType' } : {}),
    },
  });
}
