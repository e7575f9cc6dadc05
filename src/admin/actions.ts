import type { Server } from './server.ts';
import type { RepoConfig } from '../config/schema.ts';
import { runGc } from '../jobs/gc.ts';
import type { GcReport } from '../jobs/gc.ts';
import type { EvictReport } from '../jobs/evict.ts';
import { applyRetention } from '../jobs/maintenance.ts';
import type { FormatRepo, RetentionSummary } from '../formats/format.ts';
import { SwitchError } from '../formats/switches.ts';
import type { Principal } from '../auth/access.ts';
import { isRegistryError } from '../errors.ts';

/** What the UI and the admin API show of a repo. Never a credential. */
export interface RepoStatus {
  name: string;
  format: string;
  type: string;
  /** A remote's upstream, without any user:password part. */
  upstream?: string;
  members?: string[];
  deployTo?: string;
  offline?: boolean;
  /** Who decided `offline`: the config, or an admin at run time. */
  offlineBy?: 'config' | 'admin';
  /** Remote repos: patterns whose content eviction never takes (configured and added by admins). */
  pins?: { config: string[]; admin: string[] };
  /** Remote repos: bytes held at the last eviction scan, and the budget (0 = none). */
  cacheBytes?: number;
  budget?: number;
  /** Requests by cache result (HIT, MISS, STALE, COALESCED, LOCAL...). */
  results: Record<string, number>;
  /** Share of cache-answerable requests that needed no upstream request of their own; null before any. */
  hitRatio: number | null;
  /** Upstream answers by status (or failure kind: timeout, network, breaker_open...). */
  upstream_requests: Record<string, number>;
}

const RESULTS = ['HIT', 'MISS', 'STALE', 'REVALIDATED', 'COALESCED', 'LOCAL'];

function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '';
  }
}

/** A repo's status; `mayRead` filters a virtual's members down to those the caller may read (none leak by name). */
export function repoStatus(s: Server, cfg: RepoConfig, mayRead: (member: string) => boolean = () => true): RepoStatus {
  const results: Record<string, number> = {};
  for (const r of RESULTS) {
    const n = s.metrics.cache.get({ repo: cfg.name, result: r });
    if (n > 0) results[r] = n;
  }
  const upstream: Record<string, number> = {};
  for (const line of s.metrics.upstreamRequests.series({ repo: cfg.name })) upstream[line.labels['status'] ?? ''] = line.value;
  const saved = (results['HIT'] ?? 0) + (results['STALE'] ?? 0) + (results['COALESCED'] ?? 0);
  const asked = saved + (results['MISS'] ?? 0) + (results['REVALIDATED'] ?? 0);
  const out: RepoStatus = { name: cfg.name, format: cfg.format, type: cfg.type, results, hitRatio: asked > 0 ? saved / asked : null, upstream_requests: upstream };
  if (cfg.type === 'remote') {
    out.upstream = safeUrl(cfg.upstream.url);
    const switched = s.switches.offline(cfg.name);
    out.offline = switched ?? cfg.offline;
    out.offlineBy = switched === undefined ? 'config' : 'admin';
    if ('pin' in cfg.cache) out.pins = { config: cfg.cache.pin, admin: s.switches.pins(cfg.name) };
    // Known after an eviction scan (scheduled with a budget, or the admin page's usage); absent before.
    const used = s.evictor.usage(cfg.name);
    if (used !== undefined) out.cacheBytes = used;
    out.budget = cfg.cache.maxBytes;
  }
  if (cfg.type === 'virtual') {
    out.members = cfg.members.filter(mayRead);
    if (cfg.deployTo && mayRead(cfg.deployTo)) out.deployTo = cfg.deployTo;
  }
  return out;
}

/** The repos a caller may read (the one authorize; a user name alone: a UI session), in config order. */
export function readableRepos(s: Server, who: Principal | string | null): RepoConfig[] {
  const p: Principal = typeof who === 'object' && who !== null ? who : { user: who, via: who === null ? 'none' : 'session' };
  return s.config.repos.filter((r) => s.access.authorize(p, r.name, 'pull', { kind: 'listing' }) === null);
}

/** Admin actions: one place for the JSON API and the UI's forms; each is logged with its user. */
export async function adminGc(s: Server, user: string | null, dryRun: boolean): Promise<GcReport> {
  s.log.info('admin action', { user: user ?? 'anonymous', action: 'gc', dryRun });
  const report = await runGc(s, dryRun);
  if (!dryRun) for (const r of s.repos.values()) r.usageChanged?.();
  return report;
}

export async function adminEvict(s: Server, user: string | null, dryRun: boolean): Promise<EvictReport[]> {
  s.log.info('admin action', { user: user ?? 'anonymous', action: 'evict', dryRun });
  return s.evictor.run(dryRun);
}

export async function adminRetention(s: Server, user: string | null, dryRun: boolean): Promise<RetentionSummary[]> {
  s.log.info('admin action', { user: user ?? 'anonymous', action: 'retention', dryRun });
  const results = await s.gcGate.job(() => applyRetention(s.repos, Date.now(), dryRun));
  // Deleted tags and files free quota, as after gc and the scheduled maintenance.
  if (!dryRun) for (const r of s.repos.values()) r.usageChanged?.();
  return results;
}

export async function adminWarm(s: Server, user: string | null, repo: string, refs: string[], platform?: string): Promise<Array<Record<string, unknown>>> {
  s.log.info('admin action', { user: user ?? 'anonymous', action: 'warm', repo, refs: refs.length });
  const r = s.repos.get(repo);
  if (!r?.warm) throw new Error(`${repo} is not a remote repository that can be warmed`);
  const out: Array<Record<string, unknown>> = [];
  for (const ref of refs) {
    try {
      out.push({ ref, ok: true, ...(await r.warm(ref, platform ? { platform } : {})) });
    } catch (e) {
      out.push({ ref, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** Offline on, off, or back to the config's setting (null). */
export async function adminOffline(s: Server, user: string | null, repo: string, on: boolean | null): Promise<void> {
  const cfg = s.config.repos.find((r) => r.name === repo);
  if (!cfg) throw new SwitchError(`no repository ${repo}`);
  s.log.info('admin action', { user: user ?? 'anonymous', action: 'offline', repo, on });
  await s.switches.setOffline(cfg, on, user);
}

export async function adminPin(s: Server, user: string | null, repo: string, pattern: string, pin: boolean): Promise<boolean> {
  const cfg = s.config.repos.find((r) => r.name === repo);
  if (!cfg) throw new SwitchError(`no repository ${repo}`);
  s.log.info('admin action', { user: user ?? 'anonymous', action: pin ? 'pin' : 'unpin', repo, pattern });
  if (pin) {
    await s.switches.pin(cfg, pattern, user);
    return true;
  }
  return s.switches.unpin(cfg, pattern, user);
}

/** What a content delete answers: the status the API sends, and a body (the result, or why not). */
export type RemoveOutcome = { status: 200; removed: number; parent: string } | Refusal;
export type YankOutcome = { status: 200; changed: number; parent: string } | Refusal;
type Refusal = { status: 400 | 401 | 403 | 404; code: string; message: string };

/**
 * The checks before a content change of a hosted repo through the admin API or the UI: the repo
 * exists and the one `authorize` allows the action (a repo one may not read is not disclosed).
 */
function contentCheck(s: Server, p: Principal | 'invalid', repo: string, action: 'delete' | 'push', path: string): Refusal | { r: FormatRepo; p: Principal } {
  const r = s.repos.get(repo);
  if (p === 'invalid' || !r) return { status: 404, code: 'NOT_FOUND', message: 'no repository of that name that you may read' };
  const denial = s.access.authorize(p, repo, action);
  if (denial) return { status: denial.status === 401 ? 401 : denial.status === 404 ? 404 : 403, code: denial.status === 401 ? 'UNAUTHORIZED' : denial.status === 404 ? 'NOT_FOUND' : 'DENIED', message: denial.message };
  if (path === '' || path.length > 1024) return { status: 400, code: 'INVALID', message: 'give ?path= as the web UI names it (a version, a file or a folder)' };
  return { r, p };
}

/** A format's refusal as the admin API says it; anything else is the server's failure. */
function refusalOf(e: unknown): Refusal {
  if (isRegistryError(e) && e.kind === 'not_found') return { status: 404, code: 'NOT_FOUND', message: e.message };
  if (isRegistryError(e) && (e.kind === 'invalid' || e.kind === 'unsupported')) return { status: 400, code: 'INVALID', message: e.message };
  if (isRegistryError(e) && e.kind === 'denied') return { status: 403, code: 'DENIED', message: e.message };
  throw e;
}

/**
 * Deletes what a browse path names in a hosted repo (admin API `DELETE /repos/<name>/content`, the
 * UI's delete button): needs the repo's delete permission. Content changes are told to webhooks by
 * the format paths only.
 */
export async function adminRemove(s: Server, p: Principal | 'invalid', repo: string, path: string): Promise<RemoveOutcome> {
  const ok = contentCheck(s, p, repo, 'delete', path);
  if ('status' in ok) return ok;
  if (!ok.r.remove || ok.r.type !== 'local') return { status: 400, code: 'INVALID', message: `repository ${repo} has no content to delete this way (hosted Maven, PyPI and Debian repos do)` };
  try {
    const done = await ok.r.remove(path);
    s.log.info('admin action', { user: ok.p.user ?? 'anonymous', action: 'delete', repo, path, removed: done.removed });
    return { status: 200, ...done };
  } catch (e) {
    return refusalOf(e);
  }
}

/**
 * Yanks or un-yanks (reason null) a version of a hosted repo (admin API `PUT|DELETE
 * /repos/<name>/yank`, the UI's yank button): needs the repo's write permission, as a client's own
 * yank does; the format adds its rules (a crate's owners).
 */
export async function adminYank(s: Server, p: Principal | 'invalid', repo: string, path: string, reason: string | true | null): Promise<YankOutcome> {
  const ok = contentCheck(s, p, repo, 'push', path);
  if ('status' in ok) return ok;
  if (!ok.r.yank || ok.r.type !== 'local') return { status: 400, code: 'INVALID', message: `repository ${repo} has no versions to yank (hosted PyPI and Cargo repos do)` };
  if (typeof reason === 'string' && reason.length > 500) return { status: 400, code: 'INVALID', message: 'a yank reason is at most 500 characters' };
  try {
    const user = ok.p.user;
    const done = await ok.r.yank(path, reason, { user, admin: s.access.enabled && user !== null && s.access.isAdmin(user) });
    s.log.info('admin action', { user: user ?? 'anonymous', action: reason === null ? 'unyank' : 'yank', repo, path });
    return { status: 200, ...done };
  } catch (e) {
    return refusalOf(e);
  }
}
