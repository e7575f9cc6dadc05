import type { Action, Principal } from '../auth/access.ts';
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
 * The action a request needs, by method: GET and HEAD read; the methods a format takes writes
 * with (PUT, and POST for those that upload by form) push; DELETE deletes; null for any other
 * method (the format answers 405). One table for every format.
 */
export function actionOf(method: string, writes: readonly string[] = ['PUT']): Action | null {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  if (writes.includes(method)) return 'push';
  return method === 'DELETE' ? 'delete' : null;
}

/**
 * Access for the formats whose clients send Basic credentials or an access token (generic files,
 * Go, Helm): who is asking, and whether they may do `action` in `repo`, decided by the one
 * `authorize` (a registry token minted for a Docker image is refused here). `scheme`: the format's own
 * challenge instead of Basic (Cargo's `Cargo login_url=...`). Returns the principal,
 * for the read filter over virtual members, or throws an AccessRefused carrying the challenge.
 */
export async function basicAccess(ctx: RequestContext, req: Request, repo: string, action: Action, scheme?: string): Promise<Principal> {
  const s = ctx.core;
  if (!s.access.enabled) return { user: null, via: 'none' };
  const challenge = { 'www-authenticate': scheme ?? `Basic realm="${s.access.service}"` };
  const p = await s.access.identify(req.headers.get('authorization'), ctx.info.client);
  if (p !== 'invalid' && p.user !== null) ctx.info.user = p.user;
  const denial = s.access.authorize(p, repo, action);
  if (!denial) return p as Principal;
  if (denial.status === 401) throw new AccessRefused('unauthorized', denial.message, challenge);
  if (denial.status === 404) throw new RegistryError('not_found', denial.message, { code: 'NAME_UNKNOWN' });
  throw new AccessRefused('denied', denial.message, {});
}

/** May this principal do `action` in `repo` (a delete with ?force)? */
export function allowed(ctx: RequestContext, p: Principal, repo: string, action: Action): boolean {
  return ctx.core.access.authorize(p, repo, action) === null;
}

/** The read filter over a virtual repo's members (AccessControl.mayRead). */
export function memberReadable(ctx: RequestContext, p: Principal): (member: string) => boolean {
  return (member) => !ctx.core.access.enabled || ctx.core.access.mayRead(p, member);
}
