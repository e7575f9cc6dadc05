import * as v from 'valibot';
import type { RepoConfig } from '../config/schema.ts';
import { RepoSchema } from './schemas.ts';
import { LAYOUT_VERSION } from '../storage/layout.ts';
import type { MetaStore } from '../storage/meta-store.ts';

/** What an admin changed at run time, per repo; it outlives restarts and wins over the config. */
interface RepoSwitchDoc {
  offline?: boolean;
  pins?: string[];
  by?: string;
  at?: number;
}

/** Runtime pins per repo, at most: each is a pattern the eviction scan matches. */
const MAX_PINS = 200;

const keyOf = (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/_admin/switches`;

/**
 * Offline on/off and extra pins of remote repos, set from the admin API or UI. Kept as one small
 * document per repo under its `_admin` folder (gc, eviction and fsck skip `_` folders), read once
 * at start; the formats' remotes read `offline(repo)` on every request, so a switch takes effect
 * at once. Patterns are checked by the format's own config schema, so a pin accepted here is one
 * the config would accept.
 */
export class RepoSwitches {
  private readonly docs = new Map<string, RepoSwitchDoc>();
  private names: string[] = [];
  private loadedAt = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number,
    /**
     * Replicas on a shared store: a switch set through another replica is read again at most this
     * long after the last read (in the background, by the first request after), never per request.
     */
    private readonly refreshMs?: number,
  ) {}

  async load(repos: RepoConfig[]): Promise<void> {
    this.names = repos.map((r) => r.name);
    await this.reload();
  }

  private async reload(): Promise<void> {
    this.loadedAt = this.now();
    for (const name of this.names) {
      const doc = await this.meta.get<RepoSwitchDoc>(keyOf(name)).catch(() => undefined);
      if (doc) this.docs.set(name, doc);
      else if (doc === null) this.docs.delete(name);
    }
  }

  private fresh(): void {
    if (this.refreshMs === undefined || this.refreshing || this.now() - this.loadedAt < this.refreshMs) return;
    this.refreshing = this.reload()
      .catch(() => {})
      .finally(() => (this.refreshing = undefined));
  }

  /** The admin's setting, when there is one (else the config's `offline` stands). */
  offline(repo: string): boolean | undefined {
    this.fresh();
    return this.docs.get(repo)?.offline;
  }

  pins(repo: string): string[] {
    this.fresh();
    return this.docs.get(repo)?.pins ?? [];
  }

  /** The config a job should see: the admin's pins added to the configured ones. */
  withPins(cfg: RepoConfig): RepoConfig {
    const extra = this.pins(cfg.name);
    if (extra.length === 0 || cfg.type !== 'remote' || !('pin' in cfg.cache)) return cfg;
    return { ...cfg, cache: { ...cfg.cache, pin: [...cfg.cache.pin, ...extra] } } as RepoConfig;
  }

  async setOffline(cfg: RepoConfig, on: boolean | null, by: string | null): Promise<void> {
    if (cfg.type !== 'remote') throw new SwitchError(`${cfg.name} is not a remote repository`);
    const { offline: _old, ...rest } = this.docs.get(cfg.name) ?? {};
    await this.save(cfg.name, { ...rest, ...(on === null ? {} : { offline: on }) }, by);
  }

  async pin(cfg: RepoConfig, pattern: string, by: string | null): Promise<void> {
    if (cfg.type !== 'remote' || !('pin' in cfg.cache)) throw new SwitchError(`${cfg.name} is not a remote repository whose format pins content`);
    const pins = this.pins(cfg.name);
    if (pins.includes(pattern)) return;
    if (pins.length >= MAX_PINS) throw new SwitchError(`at most ${MAX_PINS} runtime pins per repository`);
    // The format's own schema decides what a pattern may be (image:tag for Docker, paths for generic).
    const checked = v.safeParse(RepoSchema, { ...cfg, cache: { ...cfg.cache, pin: [pattern] } });
    if (!checked.success) throw new SwitchError(`not a pin pattern for ${cfg.format}: ${checked.issues[0]?.message ?? 'invalid'}`);
    await this.save(cfg.name, { ...this.docs.get(cfg.name), pins: [...pins, pattern] }, by);
  }

  async unpin(cfg: RepoConfig, pattern: string, by: string | null): Promise<boolean> {
    const pins = this.pins(cfg.name);
    if (!pins.includes(pattern)) return false;
    await this.save(cfg.name, { ...this.docs.get(cfg.name), pins: pins.filter((p) => p !== pattern) }, by);
    return true;
  }

  private async save(repo: string, doc: RepoSwitchDoc, by: string | null): Promise<void> {
    const next = { ...doc, by: by ?? 'anonymous', at: this.now() };
    await this.meta.put(keyOf(repo), next);
    this.docs.set(repo, next);
  }
}

export class SwitchError extends Error {
  override name = 'SwitchError';
}
