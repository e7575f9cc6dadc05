import { Hono } from 'hono';
import type { Context } from 'hono';
import type { Server } from '../admin/server.ts';
import { adminEvict, adminGc, adminOffline, adminPin, adminRemove, adminRetention, adminYank, adminWarm, readableRepos, repoStatus } from '../admin/actions.ts';
import { toBase64 } from '../util/base64.ts';
import { adminBody } from './admin-pages.ts';
import type { AdminResult } from './admin-pages.ts';
import { APP_CSS, APP_JS, SECURITY_HEADERS, page } from './html.ts';
import type { Html } from './html.ts';
import { browseBody, reposBody, searchBody, statsBody } from './pages.ts';
import { findByName } from './search.ts';
import { preferredName, renamer, virtualView } from './virtual-view.ts';
import { TokenError, createFromForm, tokensBody } from './tokens-page.ts';
import { sameToken, sessionCookie } from '../auth/session.ts';
import type { Session } from '../auth/session.ts';
import { html } from 'hono/html';
import type { RequestInfo } from '../http/runtime.ts';
import type { Principal } from '../auth/access.ts';
import { readLimited } from '../util/streams.ts';
import { clientOrigin } from '../http/forwarded.ts';
import type { ClientOrigin } from '../http/forwarded.ts';

/** Form bodies the UI accepts (login, job buttons, warm lists): small, never streamed. */
const MAX_FORM = 64 * 1024;

type UiEnv = { Variables: { session: Session; fresh: boolean; form: URLSearchParams; info: RequestInfo } };

/**
 * The web UI under /ui/: server-rendered HTML (hono/html escapes every interpolated value), a
 * stylesheet and one small script for copy buttons. Sessions are signed cookies; every POST
 * carries the session's CSRF token and must come from our own origin.
 */
export function uiApp(s: Server): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const sessions = s.sessions;
  const client = (c: Context): ClientOrigin => clientOrigin(c.req.raw, s.config.http.trustProxy);
  const secure = (c: Context): boolean => client(c).proto === 'https';

  app.get('/static/app.css', () => new Response(APP_CSS, { headers: { ...SECURITY_HEADERS, 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=3600' } }));
  app.get('/static/app.js', () => new Response(APP_JS, { headers: { ...SECURITY_HEADERS, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'max-age=3600' } }));

  app.use('*', async (c, next) => {
    const found = await sessions.open(c.req.header('cookie') ?? null);
    c.set('session', found ?? sessions.fresh(null));
    c.set('fresh', found === null);
    if (c.req.method === 'POST') {
      const form = await readForm(c.req.raw, s.config.http.bodyIdleSeconds * 1000);
      const site = c.req.header('sec-fetch-site');
      const origin = c.req.header('origin');
      const sameOrigin = (site === undefined || site === 'same-origin') && (origin === undefined || origin === new URL(c.req.url).origin || origin === client(c).origin);
      if (!form || !found || !sameOrigin || !sameToken(form.get('csrf') ?? '', found.csrf)) {
        return respond(c, 403, page('Refused', c.get('session'), false, html`<p class="error">This form was not sent from this site's own page (or it expired). Go back, reload and try again.</p>`));
      }
      c.set('form', form);
    }
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    if (c.get('fresh') && !c.res.headers.has('set-cookie')) c.res.headers.append('set-cookie', sessionCookie(await sessions.seal(c.get('session')), secure(c)));
  });

  const user = (c: Context<UiEnv>): string | null => c.get('session').user;
  // A UI session is a password login: the same authorize as every other path.
  const principal = (c: Context<UiEnv>): Principal => ({ user: user(c), via: user(c) === null ? 'none' : 'session' });
  const admin = (c: Context<UiEnv>): boolean => s.access.authorizeAdmin(principal(c)) === null;
  const mayRead = (c: Context<UiEnv>, repo: string): boolean => s.access.authorize(principal(c), repo, 'pull', { kind: 'listing' }) === null;
  const form = (c: Context<UiEnv>): URLSearchParams => c.get('form');
  const origin = (c: Context<UiEnv>): string => client(c).origin;
  const show = (c: Context<UiEnv>, title: string, body: Html, status = 200): Promise<Response> => respond(c, status, page(title, c.get('session'), admin(c), body));

  app.get('/', (c) => show(c, 'Repositories', reposBody(readableRepos(s, user(c)).map((r) => repoStatus(s, r, (m) => s.access.mayRead(principal(c), m))))));

  app.get('/repo/:name', async (c) => {
    const name = c.req.param('name');
    const repo = s.repos.get(name);
    const cfg = s.config.repos.find((r) => r.name === name);
    // Unknown and unreadable look the same: names of repos one may not read are not disclosed.
    if (!repo || !cfg || !mayRead(c, name)) return show(c, 'Not found', html`<p>No repository named ${name} that you may read.</p>`, 404);
    const path = c.req.query('path') ?? '';
    if (cfg.type === 'virtual') {
      const members = cfg.members.filter((m) => s.access.mayRead(principal(c), m));
      const about = html`<p>A virtual repository over: ${members.map((m, i) => html`${i ? ', ' : ''}<a href="/ui/repo/${encodeURIComponent(m)}">${m}</a>`)}. Clients use its URL; what it serves is stored in its members, merged here as it serves them.</p>`;
      const merged = path.length <= 1024 ? await virtualView(name, members.map((m) => s.repos.get(m)).filter((r): r is NonNullable<typeof r> => r !== undefined), path, origin(c)) : null;
      if (!merged) return path === '' ? show(c, name, about) : show(c, 'Not found', html`<p>Nothing stored at ${path} in ${name}'s members.</p>`, 404);
      if (s.config.defaultRepo === name && cfg.format === 'docker') {
        const toRoot = renamer(new URL(origin(c)).host, name, '');
        merged.commands = merged.commands.map((x) => ({ ...x, text: toRoot(x.text) }));
      }
      return show(c, path === '' ? name : `${name} · ${merged.title}`, html`${about}${browseBody(name, merged, path)}`);
    }
    const view = path.length <= 1024 && repo.browse ? await repo.browse(path, origin(c)) : null;
    if (!view) return show(c, 'Not found', html`<p>Nothing stored at ${path} in ${name}.</p>`, 404);
    // Copy lines with the URL users have: the virtual repo over this one, or the host root.
    const virtuals = s.config.repos.flatMap((r) => (r.type === 'virtual' ? [{ name: r.name, members: r.members }] : []));
    const pref = preferredName(name, virtuals, (r) => mayRead(c, r), s.config.defaultRepo);
    if (pref.name !== name || pref.root) {
      const host = new URL(origin(c)).host;
      const toVirtual = renamer(host, name, pref.name);
      const toRoot = pref.root && cfg.format === 'docker' ? renamer(host, pref.name, '') : (t: string) => t;
      view.commands = view.commands.map((x) => ({ ...x, text: toRoot(toVirtual(x.text)) }));
      view.facts.push(['reached through', pref.root ? `${pref.name} (the host root)` : pref.name]);
    }
    // Hosted content one may delete: a button, a POST with the session's CSRF token like every form here.
    const deletable = path !== '' && cfg.type === 'local' && repo.remove !== undefined && s.access.authorize(principal(c), name, 'delete') === null;
    const del = deletable
      ? html`<form method="post" action="/ui/repo/${encodeURIComponent(name)}/delete" class="inline"><input type="hidden" name="csrf" value="${c.get('session').csrf}"><input type="hidden" name="path" value="${path}"><button type="submit" class="danger">Delete ${view.title}</button></form>`
      : '';
    // Yank and un-yank likewise, for a version of a hosted repo whose format yanks (PyPI, Cargo).
    const yankable = path !== '' && cfg.type === 'local' && repo.yank !== undefined && view.yanked !== undefined && s.access.authorize(principal(c), name, 'push') === null;
    const yank = yankable
      ? html`<form method="post" action="/ui/repo/${encodeURIComponent(name)}/yank" class="inline"><input type="hidden" name="csrf" value="${c.get('session').csrf}"><input type="hidden" name="path" value="${path}"><input type="hidden" name="undo" value="${view.yanked ? '1' : ''}">${view.yanked ? '' : html`<input type="text" name="reason" placeholder="reason (optional)" maxlength="500" aria-label="Yank reason"> `}<button type="submit">${view.yanked ? 'Un-yank' : 'Yank'} ${view.title}</button></form> `
      : '';
    return show(c, path === '' ? name : `${name} · ${view.title}`, html`${browseBody(name, view, path)}${yank}${del}`);
  });

  app.post('/repo/:name/delete', async (c) => {
    const name = c.req.param('name');
    const r = await adminRemove(s, principal(c), name, form(c).get('path') ?? '');
    if (r.status === 200) return c.redirect(`/ui/repo/${encodeURIComponent(name)}${r.parent ? `?path=${encodeURIComponent(r.parent)}` : ''}`, 303);
    return show(c, 'Not deleted', html`<p class="error">${r.message}</p>`, r.status);
  });

  app.post('/repo/:name/yank', async (c) => {
    const name = c.req.param('name');
    const f = form(c);
    const r = await adminYank(s, principal(c), name, f.get('path') ?? '', f.get('undo') ? null : f.get('reason') || true);
    if (r.status === 200) return c.redirect(`/ui/repo/${encodeURIComponent(name)}?path=${encodeURIComponent(r.parent)}`, 303);
    return show(c, 'Not changed', html`<p class="error">${r.message}</p>`, r.status);
  });

  // A login a command line started (npm login): the user sees which repo asks, and approves.
  app.get('/cli-login', async (c) => {
    const id = c.req.query('id') ?? '';
    if (!user(c)) return c.redirect(`/ui/login?next=${encodeURIComponent(`/ui/cli-login?id=${id}`)}`, 303);
    const p = await s.access.logins?.pending(id);
    if (!p || p.approved) return show(c, 'Command-line login', html`<p class="error">No such login is waiting: it expired (ten minutes) or was approved already. Run the login again.</p>`, 404);
    return show(c, 'Command-line login', html`<p>A command line asks to log in to repository <strong>${p.repo}</strong> as <strong>${user(c) ?? ''}</strong> (started ${new Date(p.created).toISOString().slice(11, 19)} UTC). Approve only if you started it: it gets an access token for ${p.repo} (read, write, delete; 90 days), listed on your tokens page.</p>
<form method="post" action="/ui/cli-login"><input type="hidden" name="csrf" value="${c.get('session').csrf}"><input type="hidden" name="id" value="${id}"><button type="submit">Approve</button></form>`);
  });
  app.post('/cli-login', async (c) => {
    const u = user(c);
    if (!u) return show(c, 'Command-line login', html`<p class="error">Log in first.</p>`, 401);
    const ok = (await s.access.logins?.approve(form(c).get('id') ?? '', u)) ?? false;
    if (!ok) return show(c, 'Command-line login', html`<p class="error">No such login is waiting: it expired or was approved already.</p>`, 404);
    s.log.info('cli login approved', { user: u });
    return show(c, 'Command-line login', html`<p>Done: return to your terminal.</p>`);
  });

  app.get('/search', async (c) => {
    const q = (c.req.query('q') ?? '').trim().slice(0, 200);
    const found = q === '' ? { hits: [], cut: false } : await findByName(s, readableRepos(s, user(c)), q, origin(c));
    return show(c, q ? `Search: ${q}` : 'Search', searchBody(q, found.hits, found.cut));
  });

  app.get('/stats', (c) => show(c, 'Cache statistics', statsBody(s.history.series())));

  const adminPage = async (c: Context<UiEnv>, result?: AdminResult): Promise<Response> => {
    if (!admin(c)) return show(c, 'Admin', html`<p class="error">Only administrators may see this page. ${user(c) ? '' : html`<a href="/ui/login?next=/ui/admin">Log in</a>.`}</p>`, user(c) ? 403 : 401);
    const usage = await s.evictor.run(true);
    const remotes = s.config.repos.filter((r) => r.type === 'remote').map((r) => repoStatus(s, r));
    const warmable = remotes.filter((r) => s.repos.get(r.name)?.warm !== undefined).map((r) => r.name);
    return show(c, 'Admin', adminBody(c.get('session'), usage, remotes, s.lastReload, result, warmable));
  };
  app.get('/admin', (c) => adminPage(c));
  app.post('/admin/run', async (c) => {
    if (!admin(c)) return adminPage(c);
    const f = form(c);
    const dryRun = f.get('dryRun') !== '0';
    const job = f.get('job');
    if (job === 'gc') return adminPage(c, { kind: 'gc', report: await adminGc(s, user(c), dryRun) });
    if (job === 'evict') return adminPage(c, { kind: 'evict', reports: await adminEvict(s, user(c), dryRun) });
    if (job === 'retention') return adminPage(c, { kind: 'retention', results: await adminRetention(s, user(c), dryRun) });
    return show(c, 'Admin', html`<p class="error">Unknown job.</p>`, 400);
  });
  app.post('/admin/warm', async (c) => {
    if (!admin(c)) return adminPage(c);
    const f = form(c);
    const repo = f.get('repo') ?? '';
    const refs = (f.get('refs') ?? '').split(/\s+/).filter((r) => r !== '').slice(0, 100);
    const results = await adminWarm(s, user(c), repo, refs).catch((e: unknown) => [{ ok: false, error: e instanceof Error ? e.message : String(e) }]);
    return adminPage(c, { kind: 'warm', repo, results });
  });

  app.post('/admin/offline', async (c) => {
    if (!admin(c)) return adminPage(c);
    const f = form(c);
    const repo = f.get('repo') ?? '';
    const on = f.get('on') === 'true' ? true : f.get('on') === 'false' ? false : null;
    const message = await adminOffline(s, user(c), repo, on).then(
      () => `${repo} is now ${on === null ? 'as the config says' : on ? 'offline: cached content only' : 'online'}`,
      (e: unknown) => `Not changed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return adminPage(c, { kind: 'switch', message });
  });
  app.post('/admin/pin', async (c) => {
    if (!admin(c)) return adminPage(c);
    const f = form(c);
    const repo = f.get('repo') ?? '';
    const pattern = (f.get('pattern') ?? '').trim();
    const pin = f.get('pin') === '1';
    const message = await adminPin(s, user(c), repo, pattern, pin).then(
      (done) => (done ? `${pin ? 'Pinned' : 'Unpinned'} ${pattern} in ${repo}` : `${pattern} was not pinned in ${repo}`),
      (e: unknown) => `Not changed: ${e instanceof Error ? e.message : String(e)}`,
    );
    return adminPage(c, { kind: 'switch', message });
  });

  // A page per user: their access tokens (a session is a password login, which managing them needs).
  const tokensPage = async (c: Context<UiEnv>, status = 200, created?: Awaited<ReturnType<typeof createFromForm>>, error?: string): Promise<Response> => {
    const who = user(c);
    const tokens = s.access.tokens;
    if (!s.access.enabled || !tokens) return show(c, 'Access tokens', html`<p>This server runs without authentication: there are no access tokens.</p>`, 404);
    if (who === null) return show(c, 'Access tokens', html`<p class="error"><a href="/ui/login?next=/ui/tokens">Log in</a> to manage your access tokens.</p>`, 401);
    return show(c, 'Access tokens', tokensBody(c.get('session'), await tokens.list(who), created, error), status);
  };
  app.get('/tokens', (c) => tokensPage(c));
  app.post('/tokens/create', async (c) => {
    const who = user(c);
    const tokens = s.access.tokens;
    if (who === null || !tokens) return tokensPage(c);
    try {
      return await tokensPage(c, 201, await createFromForm({ tokens, isAdmin: (u) => s.access.isAdmin(u), log: (m, f) => s.log.info(m, f) }, who, form(c)));
    } catch (e) {
      if (e instanceof TokenError) return tokensPage(c, 400, undefined, e.message);
      throw e;
    }
  });
  app.post('/tokens/revoke', async (c) => {
    const who = user(c);
    const tokens = s.access.tokens;
    if (who === null || !tokens) return tokensPage(c);
    const id = form(c).get('id') ?? '';
    const done = await tokens.revoke(id, who);
    if (done) s.log.info('access token revoked', { user: who, token: id });
    return tokensPage(c, done ? 200 : 404, undefined, done ? undefined : 'No such token of yours.');
  });

  app.get('/login', (c) =>
    show(c, 'Log in', s.access.enabled ? loginForm(c.get('session'), safeNext(c.req.query('next'))) : html`<p>This server runs without authentication: everyone may read and administer it, and there is nothing to log in to.</p>`),
  );
  app.post('/login', async (c) => {
    const f = form(c);
    const name = f.get('user') ?? '';
    const password = f.get('password') ?? '';
    const next = safeNext(f.get('next') ?? undefined);
    const ok = name !== '' && s.access.enabled ? await s.access.checkBasic(toBase64(`${name}:${password}`), c.get('info').client).catch(() => null) : null;
    if (ok === name) c.get('info').user = name;
    if (ok !== name) return show(c, 'Log in', html`<p class="error">Wrong user name or password.</p>${loginForm(c.get('session'), next)}`, 401);
    const res = c.redirect(next, 303);
    res.headers.append('set-cookie', sessionCookie(await sessions.seal(sessions.fresh(name)), secure(c)));
    return res;
  });
  app.post('/logout', async (c) => {
    await sessions.revoke(c.get('session'));
    const res = c.redirect('/ui/', 303);
    res.headers.append('set-cookie', sessionCookie(await sessions.seal(sessions.fresh(null)), secure(c)));
    return res;
  });
  app.all('*', (c) => show(c, 'Not found', html`<p>No such page.</p>`, 404));
  return app;
}

function loginForm(session: Session, next: string): Html {
  return html`<form method="post" action="/ui/login" class="login"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="next" value="${next}">
<p><label>User <input name="user" autocomplete="username" required></label></p><p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<button type="submit">Log in</button></form>`;
}

/** Where to go after logging in: only a page of this UI, never another site (no open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !/^\/ui\/[A-Za-z0-9/_?=&%.:@+-]*$/.test(next) || next.includes('//') || next.includes('\\')) return '/ui/';
  return next;
}

async function respond(c: Context, status: number, body: Html): Promise<Response> {
  return c.html(await body, status as 200);
}

/**
 * A urlencoded form of at most MAX_FORM bytes, or null (too large, not a form, or a body that
 * stalls for the server's body idle timeout: a slow anonymous POST must not hold its connection).
 */
async function readForm(req: Request, idleMs: number): Promise<URLSearchParams | null> {
  if (!(req.headers.get('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  const len = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len > MAX_FORM) return null;
  try {
    return new URLSearchParams(new TextDecoder().decode(await readLimited(req.body, MAX_FORM, idleMs, 'form body', 'invalid')));
  } catch {
    await req.body?.cancel().catch(() => {});
    return null;
  }
}
