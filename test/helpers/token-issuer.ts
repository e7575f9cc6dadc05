import { Hono } from 'hono';
import { createSign, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listenLoopback } from './listen.ts';
import { run } from './net.ts';

/**
 * A small Docker token server (the auth.docker.io role) for the real registry's `auth.token`
 * mode: RS256 JWTs carrying the certificate in `x5c`, which distribution verifies against its
 * rootcertbundle. Counts token requests and checks Basic credentials when users are set.
 */
export interface TokenIssuer {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  requests: { value: number; withBasic: number };
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startTokenIssuer(dir: string, opts: { users?: Record<string, string>; expiresIn?: number } = {}): Promise<TokenIssuer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  const r = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=binaryrepo-test-issuer']);
  if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  const key = await readFile(keyPath, 'utf8');
  const certDer = (await readFile(certPath, 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = 'test-registry';
  const issuer = 'binaryrepo-test-issuer';
  const requests = { value: 0, withBasic: 0 };
  const app = new Hono();
  app.get('/token', (c) => {
    requests.value++;
    const auth = c.req.header('authorization');
    let subject = '';
    if (auth?.startsWith('Basic ')) {
      requests.withBasic++;
      const [u = '', p = ''] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (opts.users?.[u] !== p) return c.json({ details: 'bad credentials' }, 401);
      subject = u;
    } else if (opts.users) {
      return c.json({ details: 'credentials required' }, 401);
    }
    const scopes = c.req.queries('scope') ?? [];
    const access = scopes.map((s) => {
      const [type = '', name = '', actions = ''] = s.split(':');
      return { type, name, actions: actions.split(',').filter((a) => a === 'pull' || a === 'push') };
    });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: issuer, sub: subject, aud: c.req.query('service'), exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(key);
    return c.json({ token: `${input}.${b64url(sig)}`, expires_in: expiresIn, issued_at: new Date().toISOString() });
  });
  const http = await listenLoopback(app.fetch);
  const url = http.url;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    requests,
    close: http.close,
  };
}
