import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PASSWORDS, authConfig, basic } from '../helpers/auth.ts';
import { launchChromium } from '../helpers/browser.ts';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

/** Markup that runs script if it is ever rendered unescaped; every variant sets window.__xss. */
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"'><svg onload="window.__xss=3">`;
/** A file name may not hold '/', so its hostile variant has none. */
const XSS_FILE = `<img src=x onerror="window.__xss=4">'&"`;
/** Screenshots for docs/ when asked: UI_SCREENSHOTS=docs/screenshots make test-ui. */
const SHOTS = process.env['UI_SCREENSHOTS'];

describe('web UI in headless Chromium (issue 14)', () => {
  let srv: TestServer;
  let chrome: { browser: Browser; close: () => Promise<void> };
  let img: TestImage;
  let reg: RunningRegistry;

  before(async () => {
    // A Debian docker-registry upstream, so the repositories page has a remote with traffic.
    reg = await startRegistry();
    await pushImage(reg.url, 'library/base', '3', await makeImage({ layerSizes: [20_000] }));
    srv = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          remoteRepo('hub', reg.url, { permissions: { read: ['reader'] } }),
          { name: 'apps', format: 'docker', type: 'local', permissions: { read: ['reader', 'writer'], write: ['writer'] } },
          { name: 'hidden', format: 'docker', type: 'local', permissions: { read: ['writer'], write: ['writer'] } },
          { name: 'files', format: 'generic', type: 'local', permissions: { read: ['reader'], write: ['writer'] } },
          { name: 'pub', format: 'generic', type: 'local', permissions: { read: ['anonymous'], write: ['writer'] } },
        ],
      },
    });
    img = await makeImage({ layerSizes: [3000, 5000], oci: true, annotations: { 'org.opencontainers.image.description': XSS } });
    await pushImage(`${srv.url}/repo/apps`, 'team/web', '1.0', img, { authorization: basic('writer') });
    await pushImage(`${srv.url}/repo/hidden`, 'secret/thing', 'v1', await makeImage({ layerSizes: [100] }), { authorization: basic('writer') });
    const file = await fetch(`${srv.url}/repo/files/tools/${encodeURIComponent(XSS_FILE)}.txt`, { method: 'PUT', body: 'hello', headers: { authorization: basic('writer') } });
    assert.equal(file.status, 201, await file.text());
    for (let i = 0; i < 2; i++) await pullImage(`${srv.url}/repo/hub`, 'library/base', '3', { headers: { authorization: basic('reader') } });
    await srv.server.fills.idle();
    chrome = await launchChromium();
    if (SHOTS) await mkdir(SHOTS, { recursive: true });
  });
  after(async () => {
    await chrome?.close();
    await srv?.close();
    await reg?.stop();
  });

  async function loggedIn(user: keyof typeof PASSWORDS, width = 1200): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await chrome.browser.newContext({ viewport: { width, height: 800 } });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    const page = await ctx.newPage();
    await page.goto(`${srv.url}/ui/login?next=/ui/`);
    await page.fill('input[name=user]', user);
    await page.fill('input[name=password]', PASSWORDS[user]);
    await Promise.all([page.waitForURL(`${srv.url}/ui/`), page.click('button[type=submit]')]);
    return { ctx, page };
  }
  const xssRan = (page: Page): Promise<unknown> => page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss);
  const shot = async (page: Page, name: string): Promise<void> => {
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  };

  it('a reader logs in, sees only readable repos, browses to a manifest and copies its pull command', async () => {
    const { ctx, page } = await loggedIn('reader');
    try {
      const repos = await page.locator('main table tbody tr td:first-child').allTextContents();
      assert.deepEqual(repos.sort(), ['apps', 'files', 'hub', 'pub'], 'hidden is not listed for the reader');
      const hub = await page.locator('tr', { hasText: 'hub' }).textContent();
      assert.match(hub ?? '', /ok, 0 failed/, 'the upstream health is shown');
      assert.match(hub ?? '', /\d+\.\d %/, 'and the hit ratio');
      await shot(page, 'repositories');
      await page.click('a:text-is("apps")');
      await page.click('a:text-is("team/web")');
      await page.click('a:text-is("1.0")');
      assert.equal(await page.locator('h1').textContent(), 'apps · team/web:1.0');
      const facts = await page.locator('table.facts').textContent();
      assert.ok(facts?.includes(img.manifest.digest), 'the manifest digest is shown');
      const layers = await page.locator('table:below(h2:text("Config and layers"))').first().textContent();
      for (const l of img.layers) assert.ok(layers?.includes(l.digest), `layer ${l.digest} listed`);
      // The hostile annotation is shown as text, and nothing in it ran.
      assert.ok(facts?.includes(XSS), 'the annotation is rendered as literal text');
      assert.equal(await xssRan(page), undefined);
      await shot(page, 'manifest');
      const podman = page.locator('.cmd', { hasText: 'podman' });
      const expected = `podman pull --tls-verify=false ${new URL(srv.url).host}/apps/team/web:1.0`;
      assert.equal(await podman.locator('code').textContent(), expected);
      await podman.locator('button.copy').click();
      await page.locator('.cmd button.copy:text("Copied")').waitFor();
      assert.equal(await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()), expected);
      // A repo the reader may not read is not found, not forbidden: its name is not confirmed.
      const hidden = await page.goto(`${srv.url}/ui/repo/hidden`);
      assert.equal(hidden?.status(), 404);
    } finally {
      await ctx.close();
    }
  });

  it('hostile names stay inert: a generic file named with markup, a tag-shaped path, a search', async () => {
    const { ctx, page } = await loggedIn('reader');
    try {
      await page.goto(`${srv.url}/ui/repo/files?path=tools/`);
      const names = await page.locator('main table tbody td:first-child').allTextContents();
      assert.ok(names.includes(`${XSS_FILE}.txt`), `listed as text: ${JSON.stringify(names)}`);
      await page.goto(`${srv.url}/ui/repo/apps?path=${encodeURIComponent(`team/web:${XSS}`)}`);
      assert.ok((await page.locator('main').textContent())?.includes(XSS));
      await page.goto(`${srv.url}/ui/search?q=${encodeURIComponent(XSS)}`);
      assert.equal(await page.locator('main input[name=q]').inputValue(), XSS);
      assert.equal(await xssRan(page), undefined);
    } finally {
      await ctx.close();
    }
  });

  // Issue 23: a page per user for access tokens. The writer creates a token scoped to `files`
  // (read and write), copies it from the page, uses it as a password with another user name, and
  // revokes it; the revoked token is refused, and the token never reaches another user's page.
  it('a writer creates an access token on their page, copies it, uses it, and revokes it', async () => {
    const writer = await loggedIn('writer');
    try {
      await writer.page.click('header nav a[href="/ui/tokens"]');
      await writer.page.waitForURL(`${srv.url}/ui/tokens`);
      await writer.page.fill('input[name=name]', 'ci upload');
      await writer.page.fill('input[name=repos]', 'files');
      await writer.page.check('input[name=actions][value=write]');
      await Promise.all([writer.page.waitForURL(`${srv.url}/ui/tokens/create`), writer.page.click('form.token-form button[type=submit]')]);
      const shown = (await writer.page.locator('#new-token').textContent()) ?? '';
      assert.match(shown, /^brt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      await writer.page.click('.notice button.copy');
      assert.equal(await writer.page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText()), shown);
      await shot(writer.page, 'tokens');
      const auth = `Basic ${Buffer.from(`anyone:${shown}`).toString('base64')}`;
      const put = await fetch(`${srv.url}/repo/files/ci/out.txt`, { method: 'PUT', body: 'from ci', headers: { authorization: auth } });
      assert.equal(put.status, 201);
      const other = await fetch(`${srv.url}/repo/apps/v2/team/web/tags/list`, { headers: { authorization: auth } });
      assert.equal(other.status, 403, 'outside its scope');
      // Reloading the page never shows the secret again; the list shows its last use.
      await writer.page.goto(`${srv.url}/ui/tokens`);
      assert.equal(await writer.page.locator('#new-token').count(), 0);
      assert.ok(!(await writer.page.content()).includes(shown));
      const row = writer.page.locator('table.tokens tbody tr', { hasText: 'ci upload' });
      assert.equal(await row.count(), 1);
      assert.doesNotMatch((await row.locator('td').nth(4).textContent()) ?? '', /never/);
      await Promise.all([writer.page.waitForURL(`${srv.url}/ui/tokens/revoke`), row.locator('button').click()]);
      assert.equal(await writer.page.locator('table.tokens tbody tr', { hasText: 'ci upload' }).count(), 0);
      const gone = await fetch(`${srv.url}/repo/files/ci/out.txt`, { headers: { authorization: auth } });
      assert.equal(gone.status, 401, 'revoked');
    } finally {
      await writer.ctx.close();
    }
    const reader = await loggedIn('reader');
    try {
      await reader.page.goto(`${srv.url}/ui/tokens`);
      assert.equal(await reader.page.locator('table.tokens tbody tr', { hasText: 'ci upload' }).count(), 0);
    } finally {
      await reader.ctx.close();
    }
  });

  // Issue 24, 13: repository content shares the UI's origin. An uploaded HTML file whose script
  // reads the CSRF token from /ui/admin and switches a repo offline must never run: active types
  // are downloads, every content answer is CSP-sandboxed and nosniff.
  it('an uploaded HTML or SVG file cannot script the UI origin, even for an admin', async () => {
    const attack = `<html><body><script>window.__xss=9;fetch('/ui/admin').then(function(r){return r.text()}).then(function(t){var m=/name="csrf" value="([^"]+)"/.exec(t);return fetch('/ui/admin/offline',{method:'POST',headers:{'content-type':'application/x-www-form-urlencoded'},body:'repo=hub&on=true&csrf='+(m?m[1]:'')})}).then(function(){document.title='done'})</script></body></html>`;
    for (const [name, type] of [['evil.html', 'text/html'], ['evil.svg', 'image/svg+xml'], ['evil.txt', 'text/plain']] as const) {
      const put = await fetch(`${srv.url}/repo/pub/x/${name}`, { method: 'PUT', body: name.endsWith('svg') ? `<svg xmlns="http://www.w3.org/2000/svg"><script>window.__xss=8</script></svg>` : attack, headers: { authorization: basic('writer'), 'content-type': type } });
      assert.equal(put.status, 201);
      const res = await fetch(`${srv.url}/repo/pub/x/${name}`);
      await res.body?.cancel();
      assert.equal(res.headers.get('content-security-policy'), "sandbox; default-src 'none'", name);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', name);
      assert.equal(res.headers.get('content-disposition'), type === 'text/plain' ? null : 'attachment', name);
    }
    const boss = await loggedIn('boss');
    try {
      for (const name of ['evil.html', 'evil.svg']) {
        // Chromium downloads it instead of rendering it on our origin.
        const [download, nav] = await Promise.all([
          boss.page.waitForEvent('download', { timeout: 20_000 }),
          boss.page.goto(`${srv.url}/repo/pub/x/${name}`).then(() => 'rendered', (e: unknown) => String(e)),
        ]);
        assert.match(nav, /Download is starting/, name);
        assert.equal(download.suggestedFilename(), name);
      }
      await boss.page.goto(`${srv.url}/repo/pub/x/evil.txt`);
      assert.equal(await xssRan(boss.page), undefined, 'no script ran');
      assert.match((await boss.page.locator('body').textContent()) ?? '', /<script>/, 'shown as text');
      assert.equal(srv.server.switches.offline('hub'), undefined, 'the repo was not switched');
    } finally {
      await boss.ctx.close();
    }
  });

  // Issue 24, 7 (in part): at 420 px the header overflowed and the user name was unreadable;
  // table headers wrapped inside words ("siz/e"); the warm result was raw JSON.
  it('at 420 px the header fits and names the user; headers never break a word; warming answers with a table', async () => {
    const narrow = await loggedIn('boss', 420);
    try {
      await narrow.page.goto(`${srv.url}/ui/`);
      const fits = await narrow.page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelector(s: string): { scrollWidth: number; clientWidth: number; getBoundingClientRect(): { left: number; right: number } } | null; documentElement: { clientWidth: number } } }).document;
        const header = d.querySelector('header');
        const user = d.querySelector('.who .user');
        const vw = d.documentElement.clientWidth;
        const box = user?.getBoundingClientRect();
        return { overflow: header ? header.scrollWidth - header.clientWidth : -1, userInside: box ? box.left >= 0 && box.right <= vw : false };
      });
      assert.equal(fits.overflow, 0, 'the header does not overflow');
      assert.equal(fits.userInside, true, 'the user name is on screen');
      await shot(narrow.page, 'narrow');
      const th = await narrow.page.evaluate(() => {
        const d = (globalThis as unknown as { document: { querySelector(s: string): unknown }; getComputedStyle(e: unknown): { whiteSpace: string; wordBreak: string } });
        const el = d.document.querySelector('th');
        return el ? d.getComputedStyle(el) : null;
      });
      assert.equal(th?.whiteSpace, 'nowrap');
      assert.notEqual(th?.wordBreak, 'break-all');
      await narrow.page.setViewportSize({ width: 1200, height: 800 });
      await narrow.page.goto(`${srv.url}/ui/admin`);
      await narrow.page.fill('form[action="/ui/admin/warm"] textarea, form[action="/ui/admin/warm"] input[name=refs]', 'library/base:3');
      await Promise.all([narrow.page.waitForURL(`${srv.url}/ui/admin/warm`), narrow.page.click('form[action="/ui/admin/warm"] button')]);
      const row = narrow.page.locator('#result table.warm tbody tr');
      assert.equal(await row.count(), 1);
      assert.equal(await row.locator('td').nth(0).textContent(), 'library/base:3');
      assert.equal(await row.locator('td').nth(1).textContent(), 'ok');
    } finally {
      await narrow.ctx.close();
    }
  });

  it('a reader is refused the admin page and its actions; an admin runs a gc dry run', async () => {
    const reader = await loggedIn('reader');
    try {
      const res = await reader.page.goto(`${srv.url}/ui/admin`);
      assert.equal(res?.status(), 403);
      assert.equal(await reader.page.locator('form.job-gc-dry').count(), 0);
      // Even with its own valid CSRF token the reader's POST changes nothing.
      const status = await reader.page.evaluate(async () => {
        const r = await fetch('/ui/admin/run', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'job=gc&dryRun=0&csrf=wrong' });
        return r.status;
      });
      assert.equal(status, 403);
    } finally {
      await reader.ctx.close();
    }
    const boss = await loggedIn('boss');
    try {
      await boss.page.goto(`${srv.url}/ui/admin`);
      await shot(boss.page, 'admin');
      await Promise.all([boss.page.waitForURL(`${srv.url}/ui/admin/run`), boss.page.click('form.job-gc-dry button')]);
      const result = await boss.page.locator('#result h2').textContent();
      assert.match(result ?? '', /^gc dry run: would free 0 blobs/);
      assert.ok(srv.logs.some((l) => l.includes('"admin action"') && l.includes('"user":"boss"') && l.includes('"action":"gc"')), 'the action is logged with its user');
      await shot(boss.page, 'admin-gc-dry-run');
      // Offline on, from the page; the remote then answers from its cache only.
      await Promise.all([boss.page.waitForURL(`${srv.url}/ui/admin/offline`), boss.page.click('tr.remote-hub form.offline-toggle button')]);
      assert.equal(await boss.page.locator('#result h2').textContent(), 'hub is now offline: cached content only');
      assert.equal(srv.server.switches.offline('hub'), true);
      await boss.page.fill('tr.remote-hub form.pin input[name=pattern]', 'library/base:*');
      await Promise.all([boss.page.waitForURL(`${srv.url}/ui/admin/pin`), boss.page.click('tr.remote-hub form.pin button')]);
      assert.deepEqual(srv.server.switches.pins('hub'), ['library/base:*']);
      await Promise.all([boss.page.waitForURL(`${srv.url}/ui/admin/offline`), boss.page.click('tr.remote-hub form.offline-toggle button')]);
      assert.equal(srv.server.switches.offline('hub'), false);
    } finally {
      await boss.ctx.close();
    }
  });
});
