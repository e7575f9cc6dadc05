import { RegistryError } from '../errors.ts';
import type { FillSource } from '../cache/fills.ts';
import { idleTimeoutBody } from '../util/streams.ts';
import { bodyOf } from '../util/native-body.ts';

/**
 * The size an upstream answer announces for its body: Content-Length, but never a length of
 * transfer-encoded bytes (fetch decodes them; the length would count the gzip).
 */
export function announcedSize(res: Response): number | undefined {
  const encoding = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  const len = res.headers.get('content-length');
  return encoding === 'identity' && len !== null && /^\d{1,15}$/.test(len) ? Number(len) : undefined;
}

/** An upstream 200's body as a fill source: its announced size, an idle timeout, a byte cap. */
export function fillSourceOf(res: Response, idleTimeoutMs: number, what: string, maxBytes: number): FillSource {
  if (!res.body) throw new RegistryError('upstream', 'upstream sent no body');
  // The runtime's own body where the adapter's fetch has one (Node: the socket's chunks), for every format.
  return { body: idleTimeoutBody(bodyOf(res) ?? res.body, idleTimeoutMs, what), size: announcedSize(res), maxBytes };
}
