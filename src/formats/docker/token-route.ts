import { RegistryError, isRegistryError } from '../../errors.ts';
import { isValidName } from './reference.ts';
import { readLimited } from '../../util/streams.ts';
import { toBase64 } from '../../util/base64.ts';
import type { AccessControl, Principal, ResolvedScope } from '../../auth/access.ts';

const MAX_SCOPES = 32;
/** A token request is a few form fields: anything larger is refused before it is held in memory. */
export const TOKEN_BODY_MAX = 64 * 1024;

export interface TokenRequestContext {
  /** A request body that sends nothing for this long fails (a client announcing bytes it never sends). */
  bodyIdleMs: number;
  /** The client's address, for the failed-login limits. */
  address: string;
}

function json(status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...extra } });
}

const unauthorized = (message: string): Response =>
  json(401, { errors: [{ code: 'UNAUTHORIZED', message, detail: null }] }, { 'www-authenticate': 'Basic realm="binaryrepo"' });

/**
 * The token endpoint of the Docker token flow (GET with optional Basic credentials, as Docker Hub
 * and the CNCF registry do it) and its OAuth2 form (POST: password and refresh_token grants), which
 * containerd uses. `offline_token=true` (GET) or `access_type=offline` (POST) adds a refresh token.
 * `resolve` maps a scope's repository name, as the client wrote it, to one of our repos.
 */
export async function handleToken(
  req: Request,
  access: AccessControl,
  resolve: (name: string) => { repo: string; image: string } | null,
  ctx: TokenRequestContext,
): Promise<Response> {
  try {
    return await token(req, access, resolve, ctx);
  } catch (e) {
    if (!isRegistryError(e)) throw e;
    // The rest of a refused body is never read: the connection cannot carry another request.
    const extra: Record<string, string> = e.kind === 'too_large' || e.kind === 'invalid' ? { connection: 'close' } : {};
    if (e.retryAfter !== undefined) extra['retry-after'] = String(e.retryAfter);
    const status = e.kind === 'too_large' ? 413 : e.kind === 'rate_limited' ? 429 : e.kind === 'invalid' ? 400 : 503;
    const code = status === 429 ? 'TOOMANYREQUESTS' : status === 413 ? 'SIZE_INVALID' : status === 400 ? 'UNSUPPORTED' : 'UNAVAILABLE';
    return json(status, { errors: [{ code, message: e.message, detail: null }] }, extra);
  }
}

async function token(
  req: Request,
  access: AccessControl,
  resolve: (name: string) => { repo: string; image: string } | null,
  ctx: TokenRequestContext,
): Promise<Response> {
  if (!access.enabled) return json(404, { errors: [{ code: 'UNSUPPORTED', message: 'authentication is off; no token is needed', detail: null }] });
  const url = new URL(req.url);
  let params = url.searchParams;
  let who: Pick<Principal, 'user' | 'token'> = { user: null };
  // A refresh token goes out only to a client that proved its password in this very request (an
  // access token is itself the long-lived credential: it gets none).
  let offline = false;
  if (req.method === 'POST') {
    const len = Number(req.headers.get('content-length') ?? 0);
    if (len > TOKEN_BODY_MAX) throw new RegistryError('too_large', `token request body over ${TOKEN_BODY_MAX} bytes`);
    const body = await readLimited(req.body, TOKEN_BODY_MAX, ctx.bodyIdleMs, 'token request body', 'invalid');
    params = new URLSearchParams(new TextDecoder().decode(body));
    const grant = params.get('grant_type');
    if (grant === 'password') {
      const p = await access.identify(`Basic ${toBase64(`${params.get('username') ?? ''}:${params.get('password') ?? ''}`)}`, ctx.address);
      if (p === 'invalid' || p.user === null) return unauthorized('invalid username or password');
      who = p;
      offline = params.get('access_type') === 'offline' && p.via === 'basic';
    } else if (grant === 'refresh_token') {
      const user = access.registryTokens.checkRefresh(params.get('refresh_token') ?? '');
      who = { user };
      // RFC 6749 §5.2: an expired, revoked or foreign refresh token is an invalid grant.
      if (user === null) return json(400, { error: 'invalid_grant', error_description: 'refresh token invalid, expired or revoked' });
    } else {
      return json(400, { error: 'unsupported_grant_type' });
    }
  } else if (req.method === 'GET') {
    const h = req.headers.get('authorization');
    if (h && /^basic\s/i.test(h)) {
      const p = await access.identify(h, ctx.address);
      if (p === 'invalid' || p.user === null) return unauthorized('invalid username or password');
      who = p;
      offline = params.get('offline_token') === 'true' && p.via === 'basic';
    }
  } else {
    return json(405, { errors: [{ code: 'UNSUPPORTED', message: 'use GET or POST', detail: null }] }, { allow: 'GET, POST' });
  }
  const service = params.get('service');
  if (service !== null && service !== access.service) return json(400, { errors: [{ code: 'DENIED', message: `unknown service ${service}`, detail: null }] });
  const scopes: ResolvedScope[] = [];
  for (const s of params.getAll('scope').flatMap((x) => x.split(' ')).filter(Boolean).slice(0, MAX_SCOPES)) {
    const m = /^repository(?:\([a-z0-9]+\))?:([^:]+):([a-z*,]*)$/.exec(s);
    if (!m || !isValidName(m[1] ?? '')) continue;
    const target = resolve(m[1] ?? '');
    if (target && isValidName(target.image)) scopes.push({ ...target, actions: (m[2] ?? '').split(',') });
  }
  const t = access.registryTokens.issue(who, scopes);
  const refresh = offline && who.user !== null ? { refresh_token: access.registryTokens.issueRefresh(who.user) } : {};
  const body = { token: t.token, access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt, ...refresh };
  return json(200, req.method === 'POST' ? { access_token: t.token, expires_in: t.expiresIn, issued_at: t.issuedAt, scope: params.getAll('scope').join(' '), ...refresh } : body);
}
