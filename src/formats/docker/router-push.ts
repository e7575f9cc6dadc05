import { RegistryError, isRegistryError } from '../../errors.ts';
import { drainRequest, idleTimeoutBody, readLimited } from '../../util/streams.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import { isValidName, isValidTag, parseReference } from './reference.ts';
import type { DockerWriter } from './repo.ts';
import { API_VERSION_HEADER, ociResponse } from './responses.ts';
import type { DockerRouterDeps } from './router-deps.ts';
import type { UploadStatus } from '../../storage/uploads.ts';

/** Push: upload sessions (POST, PATCH, PUT, GET, DELETE), mounts, manifest PUT and the deletes. */

const empty = (status: number, headers: Record<string, string>): Response =>
  new Response(null, { status, headers: { ...API_VERSION_HEADER, 'content-length': '0', ...headers } });

function digestParam(v: string | null): Digest {
  const d = parseDigest(v ?? '');
  if (!d.ok) {
    throw new RegistryError('invalid', v ? (d.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest') : 'digest parameter missing', {
      code: 'DIGEST_INVALID',
    });
  }
  return d.digest;
}

function body(req: Request, d: DockerRouterDeps): AsyncIterable<Uint8Array> {
  return req.body ? idleTimeoutBody(req.body, d.bodyIdleMs, 'request body', 'invalid', false) : nothing();
}

async function* nothing(): AsyncGenerator<Uint8Array> {}

/** `Content-Range: <start>-<end>` (the spec's form; `bytes ` and a `/total` suffix tolerated). */
function chunkStart(req: Request): number | undefined {
  const h = req.headers.get('content-range');
  if (!h) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(h.trim());
  if (!m) throw new RegistryError('range', `malformed Content-Range ${JSON.stringify(h)}`, { code: 'RANGE_INVALID' });
  const start = Number(m[1]);
  const end = Number(m[2]);
  const len = req.headers.get('content-length');
  if (end < start || (len !== null && Number(len) !== end - start + 1)) {
    throw new RegistryError('range', `Content-Range ${h} does not match the body length`, { code: 'RANGE_INVALID' });
  }
  return start;
}

function sessionHeaders(d: DockerRouterDeps, name: string, s: UploadStatus): Record<string, string> {
  return {
    location: `${d.base}/${name}/blobs/uploads/${s.id}`,
    range: `0-${s.size > 0 ? s.size - 1 : 0}`,
    'docker-upload-uuid': s.id,
  };
}

function created(d: DockerRouterDeps, name: string, digest: Digest): Response {
  return empty(201, { location: `${d.base}/${name}/blobs/${digest.value}`, 'docker-content-digest': digest.value });
}

export async function handleUpload(req: Request, name: string, id: string | undefined, d: DockerRouterDeps, w: DockerWriter): Promise<Response> {
  try {
    return await upload(req, name, id, d, w);
  } catch (e) {
    await drainRequest(req);
    throw e;
  }
}

async function upload(req: Request, name: string, id: string | undefined, d: DockerRouterDeps, w: DockerWriter): Promise<Response> {
  const q = new URL(req.url).searchParams;
  if (id === undefined) {
    const mount = q.get('mount');
    if (mount !== null) {
      const digest = digestParam(mount);
      const from = q.get('from');
      if (from === null) {
        // No `from`: the spec's automatic content discovery, among repos the caller may read.
        if ((await d.discoverBlob(digest)) && (await w.mount(name, digest))) return created(d, name, digest);
      } else {
        // `from` is a client-written name like any other: invalid ones are simply not mountable.
        const src = isValidName(from) ? await d.mountSource(from) : null;
        if (src && (await src.repo.holds(src.image, digest)) && (await w.mount(name, digest))) return created(d, name, digest);
      }
      // Not mountable (unknown source, no read access, blob absent): an ordinary session instead.
    } else if (q.get('digest') !== null) {
      const digest = digestParam(q.get('digest'));
      await w.putBlob(name, digest, body(req, d));
      return created(d, name, digest);
    }
    const newId = await w.startUpload(name);
    return empty(202, sessionHeaders(d, name, { id: newId, size: 0, info: { repo: '', scope: name, startedAt: 0 } }));
  }
  try {
    if (req.method === 'GET') return empty(204, sessionHeaders(d, name, await w.uploadStatus(name, id)));
    if (req.method === 'DELETE') {
      await w.cancelUpload(name, id);
      return empty(204, {});
    }
    if (req.method === 'PATCH') {
      const s = await w.appendUpload(name, id, body(req, d), chunkStart(req));
      return empty(202, sessionHeaders(d, name, s));
    }
    const digest = digestParam(q.get('digest'));
    const len = req.headers.get('content-length');
    if (req.body && len !== '0') await w.appendUpload(name, id, body(req, d), chunkStart(req));
    await w.finishUpload(name, id, digest);
    return created(d, name, digest);
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'range') {
      // The client resumes from what we say we have.
      const s = await w.uploadStatus(name, id).catch(() => null);
      return ociResponse(416, 'BLOB_UPLOAD_INVALID', e.message, false, s ? sessionHeaders(d, name, s) : {});
    }
    throw e;
  }
}

export async function handleManifestWrite(req: Request, name: string, refText: string, d: DockerRouterDeps, w: DockerWriter): Promise<Response> {
  const ref = parseReference(refText);
  if (!ref.ok) {
    if (ref.reason === 'invalid_tag') throw new RegistryError('invalid', 'invalid tag', { code: 'TAG_INVALID' });
    throw new RegistryError('invalid', ref.reason === 'unsupported' ? 'unsupported digest algorithm' : 'invalid digest', { code: 'DIGEST_INVALID' });
  }
  if (req.method === 'DELETE') {
    if (ref.ref.kind === 'digest') await w.deleteManifest(name, ref.ref.digest);
    else await w.deleteTag(name, ref.ref.tag);
    d.notify('delete', w.name, name, ref.ref.kind === 'digest' ? { digest: ref.ref.digest.value } : { tag: ref.ref.tag });
    return empty(202, {});
  }
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(req.body, w.manifestMaxBytes, d.bodyIdleMs, 'manifest', 'invalid');
  } catch (e) {
    if (isRegistryError(e) && e.kind === 'too_large') {
      throw new RegistryError('too_large', `manifest is larger than ${w.manifestMaxBytes} bytes`, { code: 'MANIFEST_INVALID' });
    }
    throw e;
  }
  const tagParams = tagParameters(req, ref.ref.kind === 'digest');
  const pushed = await w.putManifest(name, ref.ref, bytes, req.headers.get('content-type'), tagParams);
  const tags = ref.ref.kind === 'tag' ? [ref.ref.tag] : tagParams;
  if (tags.length === 0) d.notify('push', w.name, name, { mediaType: pushed.mediaType, size: bytes.byteLength, digest: pushed.digest.value });
  for (const tag of tags) d.notify('push', w.name, name, { mediaType: pushed.mediaType, size: bytes.byteLength, digest: pushed.digest.value, tag });
  return empty(201, {
    location: `${d.base}/${name}/manifests/${pushed.digest.value}`,
    'docker-content-digest': pushed.digest.value,
    ...(pushed.subject ? { 'oci-subject': pushed.subject.value } : {}),
    // The spec's answer to `?tag=`: the tags this push applied.
    ...(tagParams.length > 0 ? { 'oci-tag': tagParams.join(', ') } : {}),
  });
}

/** Tags one push may apply with `?tag=` (each one a tag document written under the push's lock). */
const MAX_TAG_PARAMETERS = 100;

/**
 * The distribution-spec's `?tag=<tag>` parameters of a manifest push by digest: that push also points
 * each tag at the manifest. On a push by tag they would name a second, conflicting reference.
 */
function tagParameters(req: Request, byDigest: boolean): string[] {
  const q = req.url.includes('?') ? new URL(req.url).searchParams.getAll('tag') : [];
  if (q.length === 0) return [];
  if (!byDigest) throw new RegistryError('invalid', 'tag parameters are allowed only on a push by digest', { code: 'TAG_INVALID' });
  const tags = [...new Set(q)];
  if (tags.length > MAX_TAG_PARAMETERS) throw new RegistryError('invalid', `more than ${MAX_TAG_PARAMETERS} tag parameters`, { code: 'TAG_INVALID' });
  for (const t of tags) if (!isValidTag(t)) throw new RegistryError('invalid', `invalid tag: ${t.slice(0, 200)}`, { code: 'TAG_INVALID' });
  return tags;
}

export async function handleBlobDelete(name: string, digestText: string, w: DockerWriter): Promise<Response> {
  await w.deleteBlob(name, digestParam(digestText));
  return empty(202, {});
}
