import { html } from 'hono/html';
import type { EvictReport } from '../jobs/evict.ts';
import type { GcReport } from '../jobs/gc.ts';
import type { RetentionSummary } from '../formats/format.ts';
import { fmtBytes, postForm } from './html.ts';
import type { Html } from './html.ts';
import type { Session } from '../auth/session.ts';
import type { RepoStatus } from '../admin/actions.ts';

export type AdminResult =
  | { kind: 'gc'; report: GcReport }
  | { kind: 'evict'; reports: EvictReport[] }
  | { kind: 'retention'; results: RetentionSummary[] }
  | { kind: 'warm'; repo: string; results: Array<Record<string, unknown>> }
  | { kind: 'switch'; message: string };

/** Usage per remote repo (the eviction dry run's scan), the job forms, and the last result. */
export type ReloadStatus = { at: number; source: string; ok: boolean; notes: string[] } | undefined;

/** `warmable`: the remote repos whose format can warm its cache (FormatRepo.warm), whatever the format. */
export function adminBody(session: Session, usage: EvictReport[], remotes: RepoStatus[], reload: ReloadStatus, result?: AdminResult, warmable: string[] = []): Html {
  const form = (job: string, dry: boolean, label: string): Html => postForm('/ui/admin/run', session, { job, dryRun: dry ? '1' : '0' }, label, `job-${job}${dry ? '-dry' : ''}`);
  return html`${result ? resultBody(result) : ''}
<h2>Storage jobs</h2>
<p>gc and eviction run beside pushes: a push waits for at most one short batch of deletions. A dry run reports and changes nothing.</p>
<table><tbody>
<tr><th>Garbage collection</th><td>${form('gc', true, 'Dry run')} ${form('gc', false, 'Run gc')}</td></tr>
<tr><th>Cache eviction (budgets)</th><td>${form('evict', true, 'Dry run')} ${form('evict', false, 'Evict now')}</td></tr>
<tr><th>Retention policies</th><td>${form('retention', true, 'Dry run')} ${form('retention', false, 'Apply')}</td></tr>
</tbody></table>
<h2>Usage of remote repositories</h2>
<table><thead><tr><th>repository</th><th class="num">held</th></tr></thead><tbody>${usage.map((u) => html`<tr><td>${u.repos.length === 1 ? u.repos[0] : '(all, global budget)'}</td><td class="num">${fmtBytes(u.usageBefore)}</td></tr>`)}</tbody></table>
${remotes.length > 0 ? switchesBody(session, remotes) : ''}
<h2>Configuration reload</h2><p class="reload">${reload ? html`Last reload (SIGHUP) ${new Date(reload.at).toISOString()} from ${reload.source}: ${reload.ok ? 'applied' : 'FAILED, the running config stays'}${reload.notes.length ? html`<br>${reload.notes.join('; ')}` : ''}` : 'No reload since the server started (send SIGHUP, or systemctl reload binaryrepo).'}</p>
${warmable.length > 0 ? warmForm(session, warmable) : ''}`;
}

/** Offline on/off and runtime pins per remote repo; both outlive restarts and win over the config. */
function switchesBody(session: Session, remotes: RepoStatus[]): Html {
  return html`<h2>Remote repositories</h2><table><thead><tr><th>repository</th><th>offline</th><th>pins (eviction never takes what they match)</th></tr></thead><tbody>
${remotes.map(
  (r) => html`<tr class="remote-${r.name}"><td>${r.name}</td><td>${r.offline ? 'on' : 'off'} (${r.offlineBy === 'admin' ? 'set here' : 'config'})
${postForm('/ui/admin/offline', session, { repo: r.name, on: r.offline ? 'false' : 'true' }, r.offline ? 'Go online' : 'Go offline', 'offline-toggle')}
${r.offlineBy === 'admin' ? postForm('/ui/admin/offline', session, { repo: r.name, on: 'config' }, 'Back to config') : ''}</td>
<td>${r.pins ? html`${r.pins.config.map((p) => html`<span class="badge">${p} (config)</span> `)}${r.pins.admin.map((p) => html`<span class="badge">${p}</span> ${postForm('/ui/admin/pin', session, { repo: r.name, pattern: p, pin: '0' }, 'Unpin', 'unpin')} `)}
<form method="post" action="/ui/admin/pin" class="inline pin"><input type="hidden" name="csrf" value="${session.csrf}"><input type="hidden" name="repo" value="${r.name}"><input type="hidden" name="pin" value="1"><input name="pattern" placeholder="${r.format === 'docker' ? 'image:tag, * allowed' : 'path pattern'}" aria-label="pattern"> <button type="submit">Pin</button></form>` : 'no pins in this format'}</td></tr>`,
)}</tbody></table>`;
}

function warmForm(session: Session, remotes: string[]): Html {
  return html`<h2>Warm a remote cache</h2>
<form method="post" action="/ui/admin/warm"><input type="hidden" name="csrf" value="${session.csrf}">
<label>Repository <select name="repo">${remotes.map((r) => html`<option value="${r}">${r}</option>`)}</select></label>
<p><label>References, one a line (image:tag, image@digest)<br><textarea name="refs" rows="4" cols="60"></textarea></label></p>
<button type="submit">Warm</button></form>`;
}

function resultBody(r: AdminResult): Html {
  if (r.kind === 'gc') {
    const g = r.report;
    return html`<section class="result" id="result"><h2>gc ${g.dryRun ? 'dry run' : 'run'}: ${g.dryRun ? 'would free' : 'freed'} ${g.blobsDeleted} blobs, ${fmtBytes(g.bytesFreed)}</h2>
<table class="facts"><tbody><tr><th>manifests and documents read</th><td>${g.manifests}</td></tr><tr><th>blobs kept</th><td>${g.blobsKept}</td></tr><tr><th>links removed</th><td>${g.linksDeleted}</td></tr><tr><th>abandoned uploads</th><td>${g.uploadsDeleted}</td></tr><tr><th>took</th><td>${g.ms} ms</td></tr></tbody></table>
${g.deleted.length ? html`<details><summary>${g.deleted.length} blobs</summary><pre>${g.deleted.slice(0, 1000).join('\n')}</pre></details>` : ''}</section>`;
  }
  if (r.kind === 'evict') {
    return html`<section class="result" id="result"><h2>Eviction ${r.reports[0]?.dryRun ? 'dry run' : 'run'}</h2><table><thead><tr><th>budget</th><th class="num">before</th><th class="num">after</th><th class="num">items</th><th class="num">blobs deleted</th></tr></thead><tbody>${r.reports.map((e) => html`<tr><td>${e.repos.join(', ')}</td><td class="num">${fmtBytes(e.usageBefore)}</td><td class="num">${fmtBytes(e.usageAfter)}</td><td class="num">${Object.values(e.removed).reduce((a, b) => a + b, 0)}</td><td class="num">${e.blobsDeleted}</td></tr>`)}</tbody></table></section>`;
  }
  if (r.kind === 'retention') {
    return html`<section class="result" id="result"><h2>Retention: ${r.results.reduce((n, x) => n + x.removed, 0)} items</h2><table><thead><tr><th>repository</th><th class="num">removed</th></tr></thead><tbody>${r.results.map((x) => html`<tr><td>${x.repo}</td><td class="num">${x.removed}</td></tr>`)}</tbody></table></section>`;
  }
  if (r.kind === 'switch') return html`<section class="result" id="result"><h2>${r.message}</h2></section>`;
  // One row per reference: what it took, or why it failed (it was raw JSON before).
  const n = (v: unknown): string => (typeof v === 'number' ? String(v) : '');
  const rows = r.results.map((x) =>
    x['ok'] === true
      ? html`<tr><td>${String(x['ref'] ?? '')}</td><td>ok</td><td class="num">${n(x['manifests'])}</td><td class="num">${n(x['blobs'])}</td><td class="num">${n(x['fetched'])}</td><td class="num">${typeof x['bytesFetched'] === 'number' ? fmtBytes(x['bytesFetched']) : ''}</td></tr>`
      : html`<tr class="failed"><td>${String(x['ref'] ?? '')}</td><td colspan="5" class="error">${String(x['error'] ?? 'failed')}</td></tr>`,
  );
  return html`<section class="result" id="result"><h2>Warmed ${r.repo}</h2><table class="warm"><thead><tr><th>reference</th><th>result</th><th class="num">manifests</th><th class="num">blobs</th><th class="num">fetched</th><th class="num">bytes fetched</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}
