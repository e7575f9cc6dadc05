import { hashPassword } from '../../src/auth/password.ts';

export const PASSWORDS = { writer: 'writer-secret-1', reader: 'reader-secret-1', boss: 'boss-secret-1' } as const;

/** The auth block of a config with three users (boss is admin), hashed the way the CLI does it. */
export async function authConfig(extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    ...extra,
    users: {
      writer: { passwordHash: await hashPassword(PASSWORDS.writer) },
      reader: { passwordHash: await hashPassword(PASSWORDS.reader) },
      boss: { passwordHash: await hashPassword(PASSWORDS.boss), admin: true },
    },
  };
}

export function basic(user: keyof typeof PASSWORDS): string {
  return `Basic ${Buffer.from(`${user}:${PASSWORDS[user]}`).toString('base64')}`;
}

/** Runs the token flow for a scope at a realm; returns the token (throws on a non-200). */
export async function token(realm: string, scope: string | undefined, user?: keyof typeof PASSWORDS): Promise<string> {
  const url = new URL(realm);
  url.searchParams.set('service', 'binaryrepo');
  if (scope) url.searchParams.set('scope', scope);
  const res = await fetch(url, { headers: user ? { authorization: basic(user) } : {} });
  if (res.status !== 200) throw new Error(`token ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}
