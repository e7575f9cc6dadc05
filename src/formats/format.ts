import type { AccessControl } from '../auth/access.ts';
import type { AccessTimes } from '../cache/access-times.ts';
import type { FillManager } from '../cache/fill-manager.ts';
import type { Config, RepoConfig } from '../config/schema.ts';
import type { DownloadGuard } from '../http/download-guard.ts';
import type { Logger } from '../log.ts';
import type { ServerMetrics } from '../metrics/registry.ts';
import type { Notifier } from '../notify.ts';
import type { RequestInfo, RuntimeCaps } from '../http/runtime.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import type { StorageDriver } from '../storage/driver.ts';
import type { MetaStore } from '../storage/meta-store.ts';
import type { UploadSessions } from '../storage/uploads.ts';
import type { FetchFn } from '../upstream/auth.ts';
import type { RwLock } from '../util/rwlock.ts';
import type { RepoSwitches } from './switches.ts';

/**
 * The format seam. The core (routing, auth, storage, fills, gc, eviction, quotas, fsck, jobs) talks
 * to every format through these types only; a format is a folder under src/formats/ with one
 * `Format` value, registered in src/formats/registry.ts. Nothing outside a format's folder parses
 * its documents or knows its URL grammar.
 */

export type RepoKind = 'local' | 'remote' | 'virtual';

/** What requests may use from the core: capabilities, not the whole server. */
export interface CoreServices {
  config: Pick<Config, 'hosts' | 'defaultRepo' | 'http'>;
  access: AccessControl;
  blobs: BlobStore;
  runtime: RuntimeCaps;
  metrics: ServerMetrics;
  log: Logger;
  downloads: DownloadGuard;
  notifier: Notifier;
  /** Every configured repo, for virtual views, mounts and root routing. */
  repos: ReadonlyMap<string, FormatRepo>;
}

export interface RequestContext {
  core: CoreServices;
  /** Per-request facts for the access log (repo, user, cache result, client address). */
  info: RequestInfo;
}

/** One configured repo, as the core sees it. */
export interface FormatRepo {
  readonly name: string;
  readonly format: string;
  readonly type: RepoKind;
  /** Everything under `/repo/<name>`; `sub` is the rest of the raw path ('' or '/...'). */
  handle(req: Request, sub: string, ctx: RequestContext): Promise<Response>;
  /** The repo's retention policy, where it has one (maintenance runs it before gc, under the gc lock). */
  retain?(now: number, dryRun: boolean): Promise<RetentionSummary[]>;
  /** Something was deleted behind the repo's back (gc, retention): count its usage again. */
  usageChanged?(): void;
  /** Warms a remote repo's cache with one reference in the format's own syntax (CLI `warm`, admin API, UI). */
  warm?(ref: string, opts: { platform?: string; events?: WarmEvents }): Promise<Record<string, unknown>>;
  /**
   * What the web UI shows at `path` (the format's own syntax: '' for the top, then what its
   * entries name): stored content only, never an upstream request. null = nothing there.
   */
  browse?(path: string, origin: string): Promise<BrowsePage | null>;
  /**
   * Deletes what a browse path names in a hosted repo (a version, a file, a folder) for the admin
   * API and the UI; the caller has checked the delete permission. Returns how many files or
   * entries went and the browse path to show next; throws not_found when nothing is there.
   */
  remove?(path: string): Promise<{ removed: number; parent: string }>;
  /**
   * Yanks (`reason`, or true without one) or un-yanks (null) what a browse path names in a hosted
   * repo, for the admin API and the UI (PyPI's PEP 592, Cargo's yank): the files stay, installs
   * that pin them still work, resolvers skip them. `who` is for the format's own rules (crate owners).
   */
  yank?(path: string, reason: string | true | null, who: { user: string | null; admin: boolean }): Promise<{ changed: number; parent: string }>;
  /** Air-gap bundles (CLI `export`): the blobs and index.json entries for refs in the format's syntax. */
  bundleExport?(refs: string[]): Promise<{ files: BundleFile[]; index: BundleIndexEntry[] }>;
  /** Air-gap bundles (CLI `import`): the core has stored and verified every blob of the bundle already. */
  bundleImport?(index: BundleIndexEntry[], onItem: (line: string) => void): Promise<BundleReport>;
}

/** A blob a bundle carries (`blobs/<alg>/<hex>` in the tar). */
export interface BundleFile {
  digest: string;
  size: number;
}

/** An entry of the bundle's index.json (OCI image layout); formats name their items in annotations. */
export interface BundleIndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface BundleReport {
  /** References (tags, files...) imported, and blob links made for them. */
  items: number;
  blobs: number;
}

/** Progress of a warm-up (CLI `warm`): each file or blob as it starts and ends. */
export interface WarmEvents {
  /** More work became known (a manifest's blobs): the totals of an overall bar. */
  planned(items: number, bytes: number): void;
  started(id: string, size: number | undefined, done: () => number): void;
  ended(id: string, note: 'fetched' | 'cached'): void;
}

/** One line of a listing in the web UI; `path` is what browse() takes to go there. */
export interface BrowseEntry {
  name: string;
  path: string;
  size?: number;
  note?: string;
  /** When it was pushed or fetched (epoch ms), where the format knows. */
  at?: number;
}

/** A table cell; with `path`, a link to that place in the same repo. */
export interface BrowseCell {
  text: string;
  path?: string;
}

/**
 * A format-neutral page: the UI renders it (escaping everything, since names, tags and
 * annotations come from clients) and never parses format documents itself.
 */
export interface BrowsePage {
  title: string;
  /** The path one level up ('' = the top), absent at the top. */
  parent?: string;
  entries: BrowseEntry[];
  /** The listing was cut at the UI's bound. */
  more: boolean;
  facts: Array<[string, string]>;
  tables: Array<{ caption: string; head: string[]; rows: BrowseCell[][] }>;
  /** Copy-paste client commands for what the page shows. */
  commands: Array<{ label: string; text: string }>;
  /** A version page of a format that yanks: whether this version is yanked (the UI offers yank or un-yank). */
  yanked?: boolean;
  /** A readme in Markdown (npm's `readme`), rendered by the UI with its safe subset. */
  readme?: string;
}

/** How many entries a browse listing returns at most. */
export const BROWSE_MAX = 500;

/** An empty page to fill in. */
export function browsePage(title: string): BrowsePage {
  return { title, entries: [], more: false, facts: [], tables: [], commands: [] };
}

/** What one retention run did in one place (an image, a folder); formats add their details. */
export interface RetentionSummary {
  repo: string;
  /** Documents deleted (tags, manifests, files); with dryRun, that would be. */
  removed: number;
}

/** What a format's repos are built from (created once by boot). */
export interface BuildDeps {
  fetchFn: FetchFn;
  now: () => number;
  log: Logger;
  metrics: ServerMetrics;
  blobs: BlobStore;
  meta: MetaStore;
  driver: StorageDriver;
  fills: FillManager;
  userAgent: string;
  serverId: string;
  accessTimes: AccessTimes;
  /** Resumable push sessions (files under v1/uploads/, shared by every format that takes chunked pushes). */
  uploads: UploadSessions;
  /** Held shared by reference-creating writes; gc and eviction take it exclusively only in short batches (src/storage/gc-gate.ts). */
  gcGate: RwLock;
  gcGraceMinutes: number;
  /** A request body (an upload) that sends nothing for this long fails. */
  bodyIdleMs: number;
  /** Tells the evictor that a remote repo gained cached bytes. */
  cached: (repo: string, bytes: number) => void;
  /** What admins switched at run time (offline, pins); wins over the config. */
  switches: RepoSwitches;
  /** Repos built so far (virtual repos are built last, after their members). */
  built: ReadonlyMap<string, FormatRepo>;
}

/** What the storage jobs read and change: never the whole server. */
export interface StoreAccess {
  driver: StorageDriver;
  meta: MetaStore;
  blobs: BlobStore;
  log: Logger;
}

export interface MarkOptions {
  now: number;
  graceMs: number;
  dryRun: boolean;
  /**
   * A deletion the mark wants (an expired link of `digest`). The mark runs beside pushes, so the
   * core does it later, in a short exclusive section, and only if nothing used `digest` since the
   * run began; `remove` re-checks the format's own conditions then and says whether it deleted.
   */
  drop(digest: string, remove: () => Promise<boolean>): void;
}

/**
 * One unit of cached content for LRU eviction: a document that occupies `digest` in the blob store
 * and keeps `refs` alive. Roots (manifests, files) go by their own age; other units (a remote
 * repo's blob links) go once nothing that remains references them, or last, by age, when nothing
 * ever did. Pinned units and what they reference never go.
 */
export interface CacheUnit {
  repo: string;
  digest: string;
  size: number;
  last: number;
  refs: string[];
  root: boolean;
  pinned: boolean;
  /** What the format calls it, for job reports ("manifest", "blob link", "file"). */
  kind: string;
  /** Deletes the unit's documents; returns how many extra documents went with it (tags). */
  remove(): Promise<number>;
}

/**
 * A cached file as an eviction unit (generic files, Go module files, Helm archives): one document
 * naming one blob, nothing referenced, removed by deleting the document (its bytes go when no one
 * else holds them).
 */
export function fileUnit(s: StoreAccess, repo: string, key: string, doc: { digest: string; size: number; storedAt: number }, times: Map<string, number>, pinned = false): CacheUnit {
  return {
    repo,
    digest: doc.digest,
    size: doc.size,
    last: times.get(doc.digest) ?? doc.storedAt,
    refs: [],
    root: true,
    pinned,
    kind: 'file',
    remove: async () => {
      await s.meta.delete(key);
      return 0;
    },
  };
}

/** The format's half of the storage jobs, over one repo folder (configured or not). */
export interface FormatStore {
  /** gc roots: every digest the repo folder keeps alive; hands the format's expired links to `opts.drop`. */
  mark(s: StoreAccess, repo: string, into: Set<string>, opts: MarkOptions): Promise<{ documents: number }>;
  /** Every digest the repo holds (what eviction of other repos must never delete). */
  held(s: StoreAccess, repo: string, into: Set<string>): Promise<void>;
  /** fsck: the format's invariants over the repo folder. `local`: the repo is configured as hosted. */
  check(s: StoreAccess, repo: string, local: boolean): Promise<{ counts: Record<string, number>; problems: string[] }>;
  /** Cached content of a remote repo for eviction, with last-access times from the access log. */
  units(s: StoreAccess, repo: string, times: Map<string, number>, cfg: RepoConfig | undefined): Promise<CacheUnit[]>;
}

/** A request at the host root that a format's clients insist on (Docker's `/v2/`, `/token`). */
export type RootRoute = (req: Request, path: string, ctx: RequestContext) => Promise<Response> | null;

export interface Format {
  /** The config's `format` value, and the folder under `v1/repos/<repo>/` that holds its documents. */
  readonly id: string;
  build(cfg: RepoConfig, deps: BuildDeps): FormatRepo;
  store: FormatStore;
  rootRoute?: RootRoute;
}

/** A format's `build` over its own configs: a config of another format is a wiring error, said plainly. */
export function buildFor<Id extends RepoConfig['format']>(id: Id, build: (cfg: Extract<RepoConfig, { format: Id }>, deps: BuildDeps) => FormatRepo): Format['build'] {
  return (cfg, deps) => {
    if (cfg.format !== id) throw new Error(`the ${id} format cannot build a ${cfg.format} repo`);
    // The check above is the narrowing TypeScript cannot follow through the generic.
    return build(cfg as Extract<RepoConfig, { format: Id }>, deps);
  };
}
