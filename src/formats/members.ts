import { isRegistryError } from '../errors.ts';
import type { RegistryError } from '../errors.ts';

/**
 * The kit's one rule for a virtual repo's "try the next member" (every format):
 * - a member that does not have it (not_found; unsupported: a member that cannot serve this kind
 *   of request) falls through to the next;
 * - a member that cannot answer now (its upstream down, failing or rate-limiting) falls through as
 *   well, so a later member (a local one) still serves what it has; when no member has it, the
 *   answer is that first failure (502/503/429 naming the upstream), never a 404 that would tell a
 *   build the thing does not exist;
 * - any other error (invalid, denied, too large, internal) is the answer at once.
 */
export function fallsThrough(e: unknown): boolean {
  return isRegistryError(e) && (e.kind === 'not_found' || e.kind === 'unsupported');
}

/** A member that could not answer now: its upstream is down, failing or limiting us. */
export function memberDown(e: unknown): boolean {
  return isRegistryError(e) && (e.kind === 'unavailable' || e.kind === 'upstream' || e.kind === 'rate_limited');
}

/**
 * The first member's answer by the rule above. `none` makes the not-found error from the reasons
 * remote members gave (for a message that says where it was looked for).
 */
export async function firstMember<M extends { readonly name: string; readonly type: string }, T>(members: readonly M[], ask: (m: M) => Promise<T>, none: (reasons: string[]) => RegistryError): Promise<T> {
  const reasons: string[] = [];
  let down: unknown;
  for (const m of members) {
    try {
      return await ask(m);
    } catch (e) {
      if (memberDown(e)) {
        down ??= e;
        continue;
      }
      if (!fallsThrough(e)) throw e;
      if (m.type === 'remote' && e instanceof Error) reasons.push(`${m.name}: ${e.message}`);
    }
  }
  throw down ?? none(reasons);
}
