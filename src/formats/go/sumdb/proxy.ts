import { freshness, mayServeStale } from '../../../cache/policy.ts';
import type { CacheRule, NegativeCache } from '../../../cache/policy.ts';
import type { CacheStatus } from '../../../cache/status.ts';
import { RegistryError, isRegistryError } from '../../../errors.ts';
import type { Logger } from '../../../log.ts';
import type { MetaStore } from '../../../storage/meta-store.ts';
import { SingleFlight } from '../../../upstream/singleflight.ts';
import { goLayout } from '../layout.ts';
import { checkModulePath, checkVersionForPath, matchesPrivate, unescapeCase } from '../module.ts';
import type { KeptFiles } from './kept.ts';
import { openNote, parseVerifier } from './note.ts';
import type { Verifier } from './note.ts';
import { HASH_SIZE, TILE_WIDTH, hashAt, parseRecord, parseTilePath, parseTree, recordHash, sameBytes, tileOf } from './tlog.ts';
import type { TileRef, Tree } from './tlog.ts';
import { TreeVerifier, VerificationError } from './verify.ts';

export interface SumdbAnswer {
  body: Uint8Array;
  type: string;
  cache: CacheStatus;
}

export interface SumdbDeps {
  repo: string;
  /** The database's name (a host name, as GOSUMDB names it) and its verifier key. */
  name: string;
  key: string;
  kept: KeptFiles;
  meta: MetaStore;
  /** ttlMs: how long `/latest` is served without asking; maxStaleMs: how long past it while the upstream fails. */
  rule: CacheRule;
  negative: NegativeCache;
  offline: () => boolean;
  private: string[];
  now: () => number;
  log: Logger;
}

interface LatestDoc {
  note: string;
  fetchedAt: number;
}

const TEXT = 'text/plain; charset=utf-8';
const MAX_NOTE = 64 << 10;
const MAX_LOOKUP = 256 << 10;
const notFound = (what: string): RegistryError => new RegistryError('not_found', `not found: ${what}`, { code: 'NOT_FOUND' });

/**
 * A caching proxy of one Go checksum database (`<proxy>/sumdb/<name>/…`, the go command's
 * "proxying a checksum database" protocol). Nothing is passed on or kept unless it verifies against
 * the database's key: tree heads by signature, each newer tree as an extension of the last one
 * (a fork is refused), tiles by hashing up to a signed root, lookups by their record's hash in the
 * tree their answer names. Full tiles and lookups never change and are kept; `/latest` is asked
 * again after its TTL and served stale while the database cannot be reached.
 */
export class SumdbProxy {
  private verifier: Promise<Verifier> | null = null;
  private current: TreeVerifier | null = null;
  private readonly flights = new SingleFlight<TreeVerifier>();
  private readonly lookups = new SingleFlight<Uint8Array>();
  private serial: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: SumdbDeps) {}

  get name(): string {
    return this.d.name;
  }

  async serve(rest: string, via?: string): Promise<SumdbAnswer> {
    const before = this.d.kept.fetches;
    const cache = (): CacheStatus => (this.d.kept.fetches === before ? 'HIT' : 'MISS');
    try {
      if (rest === 'supported') return await this.supported(via);
      if (rest === 'latest') return await this.latest(via);
      if (rest.startsWith('lookup/')) return { body: await this.lookup(rest.slice('lookup/'.length), via), type: TEXT, cache: cache() };
      if (rest.startsWith('tile/')) {
        const ref = parseTilePath(rest);
        if (!ref) throw new RegistryError('invalid', `invalid tile path ${rest}`, { code: 'INVALID' });
        const body = ref.level < 0 ? await this.dataTile(ref, via) : await this.hashTile(ref, via);
        return { body, type: ref.level < 0 ? TEXT : 'application/octet-stream', cache: cache() };
      }
      throw notFound(`${rest} is no checksum database path`);
    } catch (e) {
      if (!(e instanceof VerificationError)) throw e;
      this.d.log.warn('checksum database answer refused', { repo: this.d.repo, db: this.d.name, path: rest, error: e.message });
      throw new RegistryError('upstream', `checksum database ${this.d.name} failed verification, nothing kept: ${e.message}`, { code: 'VERIFICATION_FAILED' });
    }
  }

  /**
   * 200 while this proxy can answer for the database: it holds a verified tree, or a source gives it
   * one now. Otherwise 404, so the go command falls back (to the database itself, or its next
   * GOPROXY entry) instead of failing every verification with 503.
   */
  private async supported(via?: string): Promise<SumdbAnswer> {
    const ok = { body: new Uint8Array(0), type: TEXT, cache: 'HIT' as CacheStatus };
    if (await this.known()) return ok;
    if (this.d.offline()) throw notFound(`repository ${this.d.repo} is offline and holds no tree of ${this.d.name}`);
    try {
      await this.refresh(via);
      return { ...ok, cache: 'MISS' };
    } catch (e) {
      this.d.log.warn('checksum database not reachable through any source', { repo: this.d.repo, db: this.d.name, error: String(e) });
      throw notFound(`checksum database ${this.d.name} cannot be reached from ${this.d.repo}`);
    }
  }

  private key(): Promise<Verifier> {
    this.verifier ??= parseVerifier(this.d.key);
    return this.verifier;
  }

  private latestKey(): string {
    return `${goLayout.sumdb(this.d.repo, this.d.name)}/latest`;
  }

  /** A signed note's tree, or a VerificationError. */
  private async treeOf(note: Uint8Array): Promise<Tree> {
    const text = await openNote(note, await this.key());
    const tree = text === null ? null : parseTree(text);
    if (!tree) throw new VerificationError(`the tree note does not carry a valid signature of ${this.d.name}'s key, or is no tree`);
    return tree;
  }

  /** The newest tree verified so far (loaded from the store after a restart), or null. */
  private async known(): Promise<TreeVerifier | null> {
    if (this.current) return this.current;
    const doc = await this.d.meta.get<LatestDoc>(this.latestKey());
    if (!doc) return null;
    this.current ??= new TreeVerifier(await this.treeOf(new TextEncoder().encode(doc.note)), this.d.kept);
    return this.current;
  }

  /**
   * Takes a signed tree: a newer one must extend the one we have (checked from its own verified
   * tiles) and replaces it; an older or equal one must be a prefix of ours. Returns the newest.
   */
  private adopt(tree: Tree, note: Uint8Array): Promise<TreeVerifier> {
    const run = this.serial.then(async () => {
      const cur = await this.known();
      if (cur && tree.n <= cur.tree.n) {
        await cur.checkPrefix(tree);
        // Asked and confirmed: the tree we hold is fresh again (an older answer, from a lagging mirror, changes nothing else).
        const doc = tree.n === cur.tree.n ? { note: new TextDecoder().decode(note) } : await this.d.meta.get<LatestDoc>(this.latestKey());
        if (doc) await this.d.meta.put(this.latestKey(), { note: doc.note, fetchedAt: this.d.now() } satisfies LatestDoc);
        return cur;
      }
      const next = new TreeVerifier(tree, this.d.kept);
      await next.edge();
      if (cur) await next.checkPrefix(cur.tree);
      await this.d.meta.put(this.latestKey(), { note: new TextDecoder().decode(note), fetchedAt: this.d.now() } satisfies LatestDoc);
      this.current = next;
      return next;
    });
    this.serial = run.catch(() => {});
    return run;
  }

  /** Asks the database for its latest tree (one request however many ask at once). */
  private refresh(via?: string): Promise<TreeVerifier> {
    return this.flights.do('latest', async () => {
      const note = await this.d.kept.get('latest', MAX_NOTE, 'checksum database tree', via);
      return this.adopt(await this.treeOf(note), note);
    }).promise;
  }

  private async latest(via?: string): Promise<SumdbAnswer> {
    const doc = await this.d.meta.get<LatestDoc>(this.latestKey());
    const answer = (note: string, cache: CacheStatus): SumdbAnswer => ({ body: new TextEncoder().encode(note), type: TEXT, cache });
    if (doc && (this.d.offline() || freshness(doc.fetchedAt, this.d.now(), this.d.rule) === 'fresh')) return answer(doc.note, 'HIT');
    if (this.d.offline()) throw notFound(`no tree of ${this.d.name} is cached and repository ${this.d.repo} is offline`);
    try {
      await this.refresh(via);
      const now = await this.d.meta.get<LatestDoc>(this.latestKey());
      if (!now) throw new RegistryError('internal', 'latest tree not kept');
      return answer(now.note, doc ? 'REVALIDATED' : 'MISS');
    } catch (e) {
      if (!doc || !mayServeStale(doc.fetchedAt, this.d.now(), this.d.rule) || (isRegistryError(e) && e.kind === 'not_found')) throw e;
      this.d.log.warn('serving stale checksum database tree', { repo: this.d.repo, db: this.d.name, error: String(e) });
      return answer(doc.note, 'STALE');
    }
  }

  /** A tree that holds `count` hashes at tile level `level` of tile `index` (asking upstream once if ours is too small). */
  private async treeCovering(level: number, index: number, width: number, via?: string): Promise<TreeVerifier> {
    const covers = (v: TreeVerifier | null): boolean => (tileOf(v?.tree.n ?? 0, level, index)?.width ?? 0) >= width;
    const cur = await this.known();
    if (cur && covers(cur)) return cur;
    if (this.d.offline()) throw notFound(`tile ${level}/${index} is beyond the cached tree of ${this.d.name} and repository ${this.d.repo} is offline`);
    const next = await this.refresh(via);
    if (!covers(next)) throw notFound(`tile ${level}/${index}.p/${width} is beyond ${this.d.name}'s latest tree (${next.tree.n} records)`);
    return next;
  }

  /** A hash tile: the prefix of the verified tile of our newest tree (a partial tile is a prefix of the full one). */
  private async hashTile(ref: TileRef, via?: string): Promise<Uint8Array> {
    const v = await this.treeCovering(ref.level, ref.index, ref.width, via);
    return (await v.tile(ref.level, ref.index)).slice(0, ref.width * HASH_SIZE);
  }

  /** A data tile: its records, each hashing to the record hash the verified level-0 tile holds. */
  private async dataTile(ref: TileRef, via?: string): Promise<Uint8Array> {
    const hashes = await (await this.treeCovering(0, ref.index, ref.width, via)).tile(0, ref.index);
    const records = (bytes: Uint8Array): number => {
      let at = 0;
      for (let i = 0; i < ref.width; i++) {
        const r = parseRecord(bytes, at);
        if (!r || r.id !== ref.index * TILE_WIDTH + i) throw new VerificationError(`data tile ${ref.index}: record ${i} is malformed or misnumbered`);
        if (!sameBytes(recordHash(r.text), hashAt(hashes, i))) throw new VerificationError(`data tile ${ref.index}: record ${r.id} is not the one the tree holds`);
        at = r.end;
      }
      return at;
    };
    const kept = await this.d.kept.stored(-1, ref.index, ref.width);
    if (kept) return kept.slice(0, records(kept));
    const bytes = await this.d.kept.fetch(ref);
    if (records(bytes) !== bytes.byteLength) throw new VerificationError(`data tile ${ref.index}: more than ${ref.width} records`);
    await this.d.kept.keep(ref, bytes);
    return bytes;
  }

  /** `lookup/<escaped module>@<escaped version>`: the record and a signed tree that holds it. */
  private async lookup(path: string, via?: string): Promise<Uint8Array> {
    // The go command percent-encodes the `!` of case-escaping (`%21upper`).
    let modVer: string;
    try {
      modVer = decodeURIComponent(path);
    } catch {
      throw new RegistryError('invalid', 'malformed percent-encoding', { code: 'INVALID' });
    }
    const m = /^([^@]+)@([^@/]+)$/.exec(modVer);
    if (!m) throw new RegistryError('invalid', `invalid module@version "${modVer}"`, { code: 'INVALID' });
    const [escModule = '', escVersion = ''] = [m[1], m[2]];
    const module = unescapeCase(escModule);
    const version = unescapeCase(escVersion);
    checkModulePath(module);
    checkVersionForPath(module, version);
    if (matchesPrivate(this.d.private, module)) throw notFound(`${module} is private: never looked up in ${this.d.name}`);
    const rel = this.d.kept.lookupPath(escModule, escVersion);
    const kept = await this.d.kept.read(rel, MAX_LOOKUP);
    if (kept) return kept.bytes;
    if (this.d.offline()) throw notFound(`${module}@${version} is not cached in ${this.d.repo}, which is offline`);
    if (this.d.negative.has(rel)) throw notFound(`${module}@${version} (cached answer of ${this.d.name})`);
    return this.lookups.do(rel, async () => {
      let body: Uint8Array;
      try {
        body = await this.d.kept.get(`lookup/${modVer}`, MAX_LOOKUP, 'checksum database lookup', via);
      } catch (e) {
        if (isRegistryError(e) && e.kind === 'not_found') this.d.negative.add(rel);
        throw e;
      }
      const rec = parseRecord(body);
      if (!rec) throw new VerificationError(`the lookup answer for ${module}@${version} is no record`);
      const lines = new TextDecoder().decode(rec.text).split('\n').slice(0, -1);
      if (!lines.every((l) => l.startsWith(`${module} ${version} h1:`) || l.startsWith(`${module} ${version}/go.mod h1:`))) {
        throw new VerificationError(`the lookup answer for ${module}@${version} holds another module's record`);
      }
      const tree = await this.treeOf(body.subarray(rec.end));
      if (rec.id >= tree.n) throw new VerificationError(`record ${rec.id} is outside the tree of ${tree.n} records its answer names`);
      const v = await this.adopt(tree, body.slice(rec.end));
      if (!sameBytes(await v.hash(0, rec.id), recordHash(rec.text))) throw new VerificationError(`the record for ${module}@${version} is not record ${rec.id} of the signed tree`);
      await this.d.kept.keepFile(rel, body);
      return body;
    }).promise;
  }
}
