import type { Hono } from 'hono';
import type { Principal } from '../auth/access.ts';
import { TokenError, parseNewToken } from '../auth/access-tokens.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { Server } from './server.ts';
import type { RequestInfo } from '../http/runtime.ts';
import { readJsonBody } from '../util/streams.ts';

type Env = { Variables: { info: RequestInfo; user: string | null; principal: Principal | 'invalid' } };
type ApiError = (status: number, code: string, message: string, extra?: Record<string, string>) => Response;

const MAX_BODY = 16 * 1024;

/**
 * `/api/v1/tokens`: a user's access tokens, listed, created and revoked. Only a password login
 * (Basic) or a UI session may manage them: an access token never mints or revokes tokens, so a
 * leaked CI token cannot make itself a longer-lived or wider one. Admins may list and revoke
 * anyone's (`?user=`) and create one for another user (`"user"` in the body).
 */
export function tokenRoutes(app: Hono<Env>, s: Server, apiError: ApiError): void {
  const owner = (p: Principal | 'invalid'): { user: string; admin: boolean; tokens: AccessTokens } | Response => {
    const tokens = s.access.tokens;
    if (!s.access.enabled || !tokens) return apiError(404, 'NOT_FOUND', 'authentication is off: there are no access tokens');
    if (p === 'invalid' || p.user === null) return apiError(401, 'UNAUTHORIZED', 'log in to manage your access tokens', { 'www-authenticate': `Basic realm="${s.access.service}"` });
    if (p.via !== 'basic' && p.via !== 'session') return apiError(403, 'DENIED', 'access tokens are managed with your password (Basic) or in the UI, not with a token');
    return { user: p.user, admin: s.access.authorizeAdmin(p) === null, tokens };
  };

  app.get('/tokens', async (c) => {
    const o = owner(c.get('principal'));
    if (o instanceof Response) return o;
    const who = c.req.query('user');
    if (who !== undefined && who !== o.user && !o.admin) return apiError(403, 'DENIED', `${o.user} may list only their own tokens`);
    return c.json({ tokens: await o.tokens.list(who === 'all' ? undefined : (who ?? o.user)) });
  });

  app.post('/tokens', async (c) => {
    const o = owner(c.get('principal'));
    if (o instanceof Response) return o;
    const len = Number(c.req.header('content-length') ?? NaN);
    if (!Number.isFinite(len) || len > MAX_BODY) return apiError(413, 'TOO_LARGE', `send a JSON body with Content-Length, at most ${MAX_BODY} bytes`);
    const body = await readJsonBody(c.req.raw, MAX_BODY, s.config.http.bodyIdleSeconds * 1000);
    if (typeof body !== 'object' || body === null) return apiError(400, 'INVALID', 'body must be {"name": ..., "repos": [...], "actions": [...], "expiresInDays": N}');
    const b = body as Record<string, unknown>;
    const forUser = typeof b['user'] === 'string' ? b['user'] : o.user;
    if (forUser !== o.user && !o.admin) return apiError(403, 'DENIED', `${o.user} may create tokens only for themselves`);
    if (forUser !== o.user && !s.access.knows(forUser)) return apiError(400, 'INVALID', `no user ${forUser}`);
    try {
      const req = parseNewToken(forUser, s.access.isAdmin(forUser), b);
      const created = await o.tokens.create(req);
      s.log.info('access token created', { user: o.user, owner: forUser, token: created.info.id, name: req.name });
      return c.json({ token: created.token, ...created.info }, 201);
    } catch (e) {
      if (e instanceof TokenError) return apiError(400, 'INVALID', e.message);
      throw e;
    }
  });

  app.delete('/tokens/:id', async (c) => {
    const o = owner(c.get('principal'));
    if (o instanceof Response) return o;
    const id = c.req.param('id');
    if (!(await o.tokens.revoke(id, o.admin ? undefined : o.user))) return apiError(404, 'NOT_FOUND', 'no token of that id that you may revoke');
    s.log.info('access token revoked', { user: o.user, token: id });
    return new Response(null, { status: 204 });
  });
}
