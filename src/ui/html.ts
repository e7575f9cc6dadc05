import { html } from 'hono/html';
import type { Session } from '../auth/session.ts';

/** A rendered fragment (hono/html escapes every interpolated string; fragments nest unescaped). */
export type Html = ReturnType<typeof html>;

/**
 * Every UI response carries these. Scripts and styles only from our own /ui/static/ (no inline
 * code, so an injected <script> or on* attribute could not run even if escaping failed), forms
 * only back to us, never framed.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

export { fmtBytes } from '../util/bytes.ts';

/** A link into the UI; every part is encoded here, so a name can never become a scheme or a path escape. */
export function uiHref(page: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `/ui/${page.split('/').map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
}

/** A command with its copy button (the button needs JS; the text is selectable without). */
export function command(label: string, text: string): Html {
  return html`<div class="cmd"><span class="cmd-label">${label}</span><code>${text}</code><button type="button" class="copy" data-copy="${text}">Copy</button></div>`;
}

/** A POST form with the session's CSRF token. */
export function postForm(action: string, session: Session, fields: Record<string, string>, label: string, cls = ''): Html {
  return html`<form method="post" action="${action}" class="inline ${cls}"><input type="hidden" name="csrf" value="${session.csrf}">${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit">${label}</button></form>`;
}

export function page(title: string, session: Session, admin: boolean, body: Html): Html {
  const who = session.user
    ? html`<span class="user">${session.user}</span> ${postForm('/ui/logout', session, {}, 'Log out', 'logout')}`
    : html`<a href="/ui/login">Log in</a>`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · binaryrepo</title><link rel="stylesheet" href="/ui/static/app.css"><script src="/ui/static/app.js" defer></script></head>
<body><header><a class="brand" href="/ui/">binaryrepo</a><nav><a href="/ui/">Repositories</a><a href="/ui/stats">Cache statistics</a>${session.user ? html`<a href="/ui/tokens">Access tokens</a>` : ''}${admin ? html`<a href="/ui/admin">Admin</a>` : ''}</nav>
<form class="search" method="get" action="/ui/search"><input type="search" name="q" placeholder="Search by name" aria-label="Search by name"></form><div class="who">${who}</div></header>
<main><h1>${title}</h1>${body}</main></body></html>`;
}

export const APP_CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;flex-wrap:wrap;gap:.6em 1.5em;align-items:center;padding:.6em 1.2em;background:#1d2330;color:#fff}
header a{color:#cfe0ff;text-decoration:none;margin-right:1em}.brand{font-weight:700;color:#fff}
header .search{margin-left:auto}header input{padding:.3em .5em;border-radius:4px;border:0;min-width:16em}
.who{display:flex;gap:.6em;align-items:center}.who .user{color:#fff}
main{padding:1em 1.5em;max-width:1200px}h1{font-size:1.4em;word-break:break-all}
table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em;width:100%}
th,td{text-align:left;padding:.35em .7em;border-bottom:1px solid #e3e6eb;vertical-align:top;overflow-wrap:break-word}
th{background:#eef1f5;font-weight:600;word-break:normal;overflow-wrap:normal;white-space:nowrap}td.num,th.num{text-align:right;white-space:nowrap}
.cmd{display:flex;gap:.6em;align-items:center;background:#fff;border:1px solid #e3e6eb;padding:.4em .6em;margin:.3em 0}
.cmd code{flex:1;word-break:break-all}.cmd-label{color:#667;min-width:5em}
.readme{background:#fff;border:1px solid #e3e6eb;padding:.3em 1.2em;overflow-wrap:break-word}.readme pre{background:#f3f4f7;padding:.6em;overflow-x:auto}.readme table{width:auto}.readme blockquote{border-left:3px solid #ccd;margin:0;padding-left:1em;color:#445}
button{cursor:pointer;padding:.3em .8em;border-radius:4px;border:1px solid #9aa6b8;background:#fff}
form.inline{display:inline}.badge{display:inline-block;padding:0 .5em;border-radius:8px;font-size:.85em;background:#e3e6eb}
.badge.bad{background:#ffd9d6}.badge.good{background:#d6f5df}.error{color:#a11}.facts th{width:14em}
svg.chart{background:#fff;border:1px solid #e3e6eb;margin:.3em 0 1.2em}.legend span{margin-right:1.2em}
pre{background:#fff;border:1px solid #e3e6eb;padding:.6em;overflow:auto}
@media (max-width:640px){header{padding:.5em .8em}header a{margin-right:.6em}header .search{margin-left:0;flex:1 1 10em}header input{min-width:0;width:100%}.who{flex-wrap:wrap}main{padding:.8em}table{display:block;overflow-x:auto}}
.notice{background:#fff8dc;border:1px solid #e6d38a;padding:.4em .9em;margin:.5em 0 1em}code.secret{word-break:break-all;font-size:1.05em}
label.check{margin-right:1em}.token-form input[name=name],.token-form input[name=repos]{min-width:18em}
`;

/** Progressive enhancement only: copy buttons. Everything else works without JavaScript. */
export const APP_JS = `
document.addEventListener('click', function (e) {
  var b = e.target;
  if (!(b instanceof HTMLButtonElement) || !b.classList.contains('copy')) return;
  var text = b.getAttribute('data-copy') || '';
  navigator.clipboard.writeText(text).then(function () { b.textContent = 'Copied'; }, function () { b.textContent = 'Select and copy'; });
});
`;
