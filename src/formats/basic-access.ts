import type { Action } from '../auth/access.ts';
import { RegistryError } from '../errors.ts';
import type { RequestContext } from './format.ts';

/** A refusal with the headers its response needs (the Basic challenge for 401). */
export class AccessRefused extends RegistryError {
  constructor(
    kind: 'unauthorized' | 'denied',
    message: string,
    readonly headers: Record<string, string>,
  ) {
    super(kind, message);
  }
}

/**
 * Access for the formats whose clients send Basic credentials (generic files, Go, Helm): who is
 * asking, and whether they may do `action` in `repo`. Returns the user (null: anonymous) or throws
 * an AccessRefused carrying the challenge to send.
 */
export async function basicAccess(ctx: RequestContext, req: Request, repo: string, action: Action): Promise<string | null> {
  const s = ctx.core;
  if (!s.access.enabled) return null;
  const challenge = { 'www-authenticate': `Basic realm="${s.access.service}"` };
  const p = await s.access.identify(req.headers.get('authorization'), ctx.info.client);
  if (p === 'invalid') throw new AccessRefused('unauthorized', 'authentication failed', challenge);
  if (p.user !== null) ctx.info.user = p.user;
  if (s.access.can(p.user, repo, action)) return p.user;
  if (p.user === null) throw new AccessRefused('unauthorized', 'authentication required', challenge);
  throw new AccessRefused('denied', `${p.user} may not ${action} in ${repo}`, {});
}
