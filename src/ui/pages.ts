import { html } from 'hono/html';
import type { RepoStatus } from '../admin/actions.ts';
import type { BrowsePage } from '../formats/format.ts';
import type { Sample } from '../metrics/history.ts';
import { command, fmtBytes, uiHref } from './html.ts';
import { renderReadme } from './markdown.ts';
import type { Html } from './html.ts';

export function reposBody(rows: RepoStatus[]): Html {
  if (rows.length === 0) return html`<p>No repositories you may read. <a href="/ui/login">Log in</a> to see more.</p>`;
  return html`<table><thead><tr><th>name</th><th>format</th><th>kind</th><th>upstream</th><th>health</th><th class="num">cache / budget</th><th class="num">hit ratio</th></tr></thead><tbody>
${rows.map(
  (r) => html`<tr><td><a href="${uiHref(`repo/${r.name}`)}">${r.name}</a></td><td>${r.format}</td><td>${r.type}${r.members ? html`: ${r.members.join(', ')}` : ''}</td>
<td>${r.upstream ?? ''}${r.offline ? html` <span class="badge">offline</span>` : ''}</td><td>${health(r)}</td>
<td class="num">${r.type === 'remote' ? `${r.cacheBytes === undefined ? 'not scanned yet' : fmtBytes(r.cacheBytes)} / ${r.budget ? fmtBytes(r.budget) : 'no budget'}` : ''}</td>
<td class="num">${r.hitRatio === null ? '' : `${(100 * r.hitRatio).toFixed(1)} %`}</td></tr>`,
)}</tbody></table>`;
}

/** Upstream health from its recent answers: failures (5xx, timeouts, an open breaker) against successes. */
function health(r: RepoStatus): Html | string {
  if (r.type !== 'remote') return '';
  let ok = 0;
  let bad = 0;
  for (const [status, n] of Object.entries(r.upstream_requests)) {
    if (/^[23]\d\d$/.test(status) || status === '404') ok += n;
    else bad += n;
  }
  if (ok + bad === 0) return html`<span class="badge">no requests yet</span>`;
  const open = (r.upstream_requests['breaker_open'] ?? 0) > 0;
  return html`<span class="badge ${bad > ok || open ? 'bad' : 'good'}">${ok} ok, ${bad} failed${open ? ', breaker opened' : ''}</span>`;
}

export function browseBody(repo: string, p: BrowsePage, path: string): Html {
  const up = p.parent;
  return html`<p><a href="${uiHref(`repo/${repo}`)}">${repo}</a>${up !== undefined && path ? html` · <a href="${uiHref(`repo/${repo}`, up ? { path: up } : {})}">up</a>` : ''}</p>
${p.facts.length ? html`<table class="facts"><tbody>${p.facts.map(([k, v]) => html`<tr><th>${k}</th><td>${v}</td></tr>`)}</tbody></table>` : ''}
${p.commands.length ? html`<h2>Commands</h2>${p.commands.map((c) => command(c.label, c.text))}` : ''}
${p.entries.length ? html`<table><thead><tr><th>name</th><th class="num">size</th><th>pushed or fetched</th><th>detail</th></tr></thead><tbody>${p.entries.map((e) => html`<tr><td><a href="${uiHref(`repo/${repo}`, { path: e.path })}">${e.name}</a></td><td class="num">${fmtBytes(e.size)}</td><td>${e.at ? new Date(e.at).toISOString().replace('T', ' ').slice(0, 16) : ''}</td><td>${e.note ?? ''}</td></tr>`)}</tbody></table>${p.more ? html`<p>The list is cut here; use the format's own listing for the rest.</p>` : ''}` : ''}
${p.tables.map(
  (t) => html`<h2>${t.caption}</h2><table><thead><tr>${t.head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${t.rows.map((row) => html`<tr>${row.map((c) => html`<td>${c.path ? html`<a href="${uiHref(`repo/${repo}`, { path: c.path })}">${c.text}</a>` : c.text}</td>`)}</tr>`)}</tbody></table>`,
)}
${p.readme ? html`<h2>Readme</h2>${renderReadme(p.readme)}` : ''}`;
}

export function searchBody(q: string, hits: Array<{ repo: string; name: string; path: string }>, cut: boolean): Html {
  return html`<form method="get" action="/ui/search"><input type="search" name="q" value="${q}" aria-label="Search"> <button type="submit">Search</button></form>
${q === '' ? '' : hits.length === 0 ? html`<p>Nothing stored matches.</p>` : html`<table><thead><tr><th>repository</th><th>name</th></tr></thead><tbody>${hits.map((h) => html`<tr><td>${h.repo}</td><td><a href="${uiHref(`repo/${h.repo}`, { path: h.path })}">${h.name}</a></td></tr>`)}</tbody></table>${cut ? html`<p>Only the first matches are shown.</p>` : ''}`}`;
}

/** One line chart of per-step increases, drawn server-side as SVG (no script needed). */
function chart(title: string, samples: Sample[], lines: Array<{ label: string; color: string; pick: (s: Sample) => number }>, unit: (n: number) => string): Html {
  const W = 720;
  const H = 176;
  const bottom = H - 24;
  const deltas = lines.map((l) => samples.slice(1).map((s, i) => Math.max(0, l.pick(s) - l.pick(samples[i] ?? s))));
  const max = Math.max(1, ...deltas.flat());
  // Points by their time, not their index (samples come only while requests arrive), on a time axis.
  const times = samples.slice(1).map((s) => s.t);
  const t0 = samples[0]?.t ?? 0;
  const span = Math.max(1, (samples[samples.length - 1]?.t ?? t0) - t0);
  const x = (t: number): number => ((t - t0) / span) * (W - 20) + 10;
  const pts = (d: number[]): string => d.map((v, i) => `${x(times[i] ?? t0).toFixed(1)},${(bottom - (v / max) * (bottom - 20)).toFixed(1)}`).join(' ');
  const hhmm = (t: number): string => new Date(t).toISOString().slice(11, 16);
  const ticks = samples.length > 1 ? [t0, t0 + span / 2, t0 + span] : samples.map((s) => s.t);
  const totals = lines.map((l) => (samples.length ? l.pick(samples[samples.length - 1] as Sample) : 0));
  return html`<h2>${title}</h2><div class="legend">${lines.map((l, i) => html`<span><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="${l.color}"/></svg> ${l.label}: ${unit(totals[i] ?? 0)} in all</span>`)}</div>
<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"><text x="10" y="14" font-size="11">peak ${unit(max)} per step</text><line x1="10" y1="${bottom}" x2="${W - 10}" y2="${bottom}" stroke="#ccd"/>${ticks.map((t, i) => html`<text class="tick" x="${x(t).toFixed(1)}" y="${H - 8}" font-size="11" text-anchor="${i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}">${hhmm(t)} UTC</text>`)}${lines.map((l, i) => html`<polyline fill="none" stroke="${l.color}" stroke-width="2" points="${pts(deltas[i] ?? [])}"/>`)}</svg>`;
}

export function statsBody(samples: Sample[]): Html {
  const count = (n: number): string => n.toFixed(0);
  return html`<p>${samples.length} points, one a minute at most while requests arrive (the last is now). Totals since the server started.</p>
${chart('Bytes served from the cache and passed through from upstream', samples, [
  { label: 'from cache', color: '#2a7', pick: (s) => s.servedFromCache },
  { label: 'from upstream', color: '#c53', pick: (s) => s.servedFromUpstream },
], fmtBytes)}
${chart('Bytes fetched from upstreams', samples, [{ label: 'fetched', color: '#36c', pick: (s) => s.fetched }], fmtBytes)}
${chart('Upstream requests saved, misses and stale serves', samples, [
  { label: 'saved (hits, joined downloads, stale)', color: '#2a7', pick: (s) => s.saved },
  { label: 'misses', color: '#c53', pick: (s) => s.misses },
  { label: 'stale serves', color: '#a6a', pick: (s) => s.stale },
], count)}
${chart('Evictions', samples, [{ label: 'evicted items', color: '#888', pick: (s) => s.evictions }], count)}`;
}
