import { html } from 'hono/html';
import { TOKEN_PERMISSIONS, TokenError, parseNewToken } from '../auth/access-tokens.ts';
import type { AccessTokenInfo, AccessTokens } from '../auth/access-tokens.ts';
import type { Html } from './html.ts';
import { postForm } from './html.ts';
import type { Session } from '../auth/session.ts';

/** What the tokens page needs of the UI app: the session's user, whether they are an admin, the form posted. */
export interface TokensPageDeps {
  tokens: AccessTokens;
  isAdmin: (user: string) => boolean;
  log: (msg: string, fields: Record<string, unknown>) => void;
}

const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16));

/**
 * `/ui/tokens`: the logged-in user's access tokens (a page per user, as GitHub's and npm's): a list
 * with last use and expiry, a form to create one (its secret is shown once, never again), a revoke
 * button per token. The session is a password login, which is what managing tokens needs.
 */
export function tokensBody(session: Session, list: AccessTokenInfo[], created?: { token: string; info: AccessTokenInfo }, error?: string): Html {
  const rows = list.map(
    (t) => html`<tr><td>${t.name}</td><td><code>${t.repos.join(', ')}</code></td><td>${t.actions.join(', ')}</td><td>${when(t.createdAt)}</td><td>${when(t.lastUsedAt)}</td><td>${when(t.expiresAt)}</td><td>${postForm('/ui/tokens/revoke', session, { id: t.id }, 'Revoke', 'danger')}</td></tr>`,
  );
  return html`${created ? html`<div class="notice" role="status"><p>Token <b>${created.info.name}</b> created. Copy it now: it is shown only once.</p><p><code class="secret" id="new-token">${created.token}</code> <button type="button" class="copy" data-copy="${created.token}">Copy</button></p>
<p>Use it as the password with any user name (<code>curl -u ci:TOKEN</code>, pip, Maven, Helm, <code>.netrc</code>), or as <code>Authorization: Bearer TOKEN</code> (npm's <code>_authToken</code>, Cargo).</p></div>` : ''}
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<table class="tokens"><thead><tr><th>Name</th><th>Repositories</th><th>Actions</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7">No access tokens yet.</td></tr>`}</tbody></table>
<h2>New token</h2>
<form method="post" action="/ui/tokens/create" class="token-form"><input type="hidden" name="csrf" value="${session.csrf}">
<p><label>Name <input name="name" required maxlength="64" placeholder="ci deploy"></label></p>
<p><label>Repositories <input name="repos" value="*" required placeholder="files, charts, go-*"></label> (comma-separated names or patterns; * is every repo)</p>
<p>Actions ${TOKEN_PERMISSIONS.map((a) => html`<label class="check"><input type="checkbox" name="actions" value="${a}" ${a === 'read' ? 'checked' : ''}> ${a}</label>`)}</p>
<p><label>Expires in <input name="days" type="number" min="0" max="3650" value="90"> days</label> (0: never)</p>
<button type="submit">Create token</button></form>`;
}

/** The create form's fields as the one token request parser takes them. */
export function createFromForm(d: TokensPageDeps, user: string, form: URLSearchParams): Promise<{ token: string; info: AccessTokenInfo }> {
  const days = form.get('days');
  const input = {
    name: (form.get('name') ?? '').trim(),
    repos: (form.get('repos') ?? '').split(',').map((r) => r.trim()).filter((r) => r !== ''),
    actions: form.getAll('actions'),
    expiresInDays: days === null || days === '' ? undefined : Number(days),
  };
  const req = parseNewToken(user, d.isAdmin(user), input);
  return d.tokens.create(req).then((created) => {
    d.log('access token created', { user, token: created.info.id, name: req.name });
    return created;
  });
}

export { TokenError };
