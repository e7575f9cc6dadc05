/**
 * The scheme, host and origin the client used, for the URLs we hand back (the token realm, copy
 * commands, the UI's same-origin check, secure cookies). The one trust rule: with
 * `http.trustProxy` (the default; binaryrepo behind nginx or a load balancer) the first value of
 * X-Forwarded-Proto and X-Forwarded-Host wins (the leftmost is what the client sent to the first
 * proxy); without it, only the request's own URL and Host count, so a client talking to us
 * directly cannot make us name another origin.
 */
export interface ClientOrigin {
  proto: 'http' | 'https';
  host: string;
  origin: string;
}

const first = (v: string | null): string | undefined => v?.split(',')[0]?.trim() || undefined;

export function clientOrigin(req: Request, trustProxy: boolean): ClientOrigin {
  const url = new URL(req.url);
  const fwdProto = trustProxy ? first(req.headers.get('x-forwarded-proto'))?.toLowerCase() : undefined;
  const proto = fwdProto === 'https' || fwdProto === 'http' ? fwdProto : url.protocol === 'https:' ? 'https' : 'http';
  const host = (trustProxy ? first(req.headers.get('x-forwarded-host')) : undefined) ?? first(req.headers.get('host')) ?? url.host;
  return { proto, host, origin: `${proto}://${host}` };
}

/**
 * A repo's URL for documents clients keep (npm tarball URLs, PyPI's JSON API): `publicUrl` when
 * configured; else the origin the client used and, behind a trusted proxy, X-Forwarded-Prefix.
 */
export function repoBase(req: Request, http: { trustProxy: boolean; publicUrl?: string | undefined }, repo: string): string {
  if (http.publicUrl) return `${http.publicUrl.replace(/\/+$/, '')}/repo/${repo}`;
  const prefix = http.trustProxy ? (req.headers.get('x-forwarded-prefix') ?? '').split(',')[0]?.trim().replace(/\/+$/, '') ?? '' : '';
  return `${clientOrigin(req, http.trustProxy).origin}${/^(\/[A-Za-z0-9._~-]+)*$/.test(prefix) ? prefix : ''}/repo/${repo}`;
}
