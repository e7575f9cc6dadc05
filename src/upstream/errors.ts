import { RegistryError } from '../errors.ts';
import { readLimited } from '../util/streams.ts';

/**
 * Turns an upstream answer that is not what we asked for into an honest domain error: the upstream's
 * status and error codes go into the detail, and "not found" is only ever said when the upstream
 * said it.
 */
export async function upstreamFailure(res: Response, host: string, what: string, notFoundCode: string): Promise<RegistryError> {
  const upstreamCodes = await readErrorCodes(res);
  const detail = { upstream: host, status: res.status, errors: upstreamCodes };
  const retry = parseRetryAfter(res.headers.get('retry-after'));
  if (res.status === 404) {
    return new RegistryError('not_found', `${what} not found upstream`, { code: notFoundCode, detail, upstreamStatus: 404 });
  }
  if (res.status === 508) {
    // The upstream saw a loop or too many proxies in the Via chain: the request's fault, not a failure.
    return new RegistryError('loop', `upstream ${host} refused ${what}: request loop or too many proxies`, { detail, upstreamStatus: 508 });
  }
  if (res.status === 429) {
    return new RegistryError('rate_limited', `upstream ${host} is rate limiting ${what} requests`, {
      detail,
      upstreamStatus: 429,
      ...(retry !== undefined ? { retryAfter: retry } : {}),
    });
  }
  if (res.status === 401 || res.status === 403) {
    return new RegistryError(
      'upstream',
      `upstream ${host} refused ${what} (${res.status}): it needs other credentials, or the repository does not exist there`,
      { detail, upstreamStatus: res.status },
    );
  }
  return new RegistryError('upstream', `upstream ${host} answered ${res.status} for ${what}`, {
    detail,
    upstreamStatus: res.status,
    ...(retry !== undefined ? { retryAfter: retry } : {}),
  });
}

async function readErrorCodes(res: Response): Promise<string[]> {
  try {
    const text = new TextDecoder().decode(await readLimited(res.body, 65536, 10_000, 'upstream error'));
    const doc = JSON.parse(text) as { errors?: Array<{ code?: unknown }> };
    return (doc.errors ?? []).map((e) => String(e.code ?? '')).filter((c) => /^[A-Z_]{1,64}$/.test(c));
  } catch {
    return [];
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d{1,9}$/.test(v.trim())) return Number(v.trim());
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, Math.ceil((t - Date.now()) / 1000));
}
