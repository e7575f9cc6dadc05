import type { Server } from '../../src/boot.ts';
import { TokenError, parseNewToken } from '../../src/auth/access-tokens.ts';

/**
 * `binaryrepo token create|list|revoke`: access tokens on the store the config names, for an
 * operator with the machine (CI service accounts, a user who cannot open the UI). The server sees a
 * new token at once and a revocation within a few seconds (access-tokens.ts CACHE_MS).
 * Returns the exit code: 0, 1 for a refused request, 2 for bad usage.
 */
export async function tokenCommand(server: Server, sub: string, positional: string[], values: Map<string, string>): Promise<number> {
  const tokens = server.access.tokens;
  if (!server.access.enabled || !tokens) {
    console.error('authentication is off in this config: there are no access tokens');
    return 1;
  }
  if (sub === 'create') {
    const [user, name] = positional;
    if (!user || !name) return 2;
    if (!server.access.knows(user)) {
      console.error(`no user ${user} in the config`);
      return 1;
    }
    const days = values.get('--expires-days');
    try {
      const req = parseNewToken(user, server.access.isAdmin(user), {
        name,
        repos: (values.get('--repos') ?? '*').split(',').map((r) => r.trim()).filter((r) => r !== ''),
        actions: (values.get('--actions') ?? 'read').split(',').map((a) => a.trim()).filter((a) => a !== ''),
        expiresInDays: days === undefined ? undefined : Number(days),
      });
      const created = await tokens.create(req);
      // The secret on stdout alone (for `TOKEN=$(binaryrepo token create ...)`), what it is on stderr.
      console.log(created.token);
      console.error(`token ${created.info.id} "${name}" for ${user}: ${req.actions.join(',')} on ${req.repos.join(',')}, ${created.info.expiresAt === null ? 'never expires' : `expires ${new Date(created.info.expiresAt).toISOString()}`}`);
      return 0;
    } catch (e) {
      if (!(e instanceof TokenError)) throw e;
      console.error(e.message);
      return 1;
    }
  }
  if (sub === 'list') {
    console.log(JSON.stringify(await tokens.list(positional[0]), null, 2));
    return 0;
  }
  if (sub === 'revoke') {
    const [id] = positional;
    if (!id) return 2;
    if (!(await tokens.revoke(id))) {
      console.error(`no token ${id}`);
      return 1;
    }
    console.error(`revoked ${id}`);
    return 0;
  }
  return 2;
}
