import { mayServeStale } from '../../cache/policy.ts';
import { RegistryError, isRegistryError } from '../../errors.ts';
import { readLimited } from '../../util/streams.ts';
import type { Digest } from '../../storage/digest.ts';
import { layout } from './layout.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import { lexical, mergeSorted } from './listing.ts';
import { MEDIA } from './media.ts';
import type { DockerRemoteDeps } from './remote-deps.ts';

const MAX_TAG_PAGES = 50;
/** Lists bigger than this are served but not kept (the meta store is for small documents). */
const MAX_KEPT_BYTES = 512 * 1024;

interface ListDoc<T> {
  items: T[];
  fetchedAt: number;
}

type Descriptor = Record<string, unknown>;

/**
 * A remote repo's tag lists and referrers. Both change upstream at any time (a new tag, a new
 * signature), so they are asked each time; the last good answer is kept and served, within
 * `maxStaleSeconds`, when the upstream fails. A tag list with no kept answer falls back to the tags
 * this cache holds, which is what a pull could resolve anyway.
 */
export class RemoteLists {
  constructor(private readonly d: DockerRemoteDeps) {}

  /** `name` is the upstream's name of the image (library/ added), under which the cache keeps it. */
  async tags(name: string, via: string | undefined): Promise<string[]> {
    const key = layout.dockerTagList(this.d.repo, name);
    const held = async (): Promise<string[] | null> => {
      const tags = await this.d.meta.list(`${layout.dockerImageDir(this.d.repo, name)}/_tags`);
      return tags.length > 0 ? tags.sort(lexical) : null;
    };
    if (this.d.offline()) {
      const found = (await this.kept<string>(key)) ?? (await held());
      if (found) return found;
      throw new RegistryError('not_found', `no tags of ${name} are cached and repo ${this.d.repo} is offline`, { code: 'NAME_UNKNOWN' });
    }
    return this.withFallback(key, () => this.fetchTags(name, via), held);
  }

  async referrers(name: string, digest: Digest, via: string | undefined): Promise<Descriptor[]> {
    const key = layout.dockerUpstreamReferrers(this.d.repo, name, digest);
    // Offline: what we kept, else none (the API itself is there, so never a 404).
    if (this.d.offline()) return (await this.kept<Descriptor>(key)) ?? [];
    return this.withFallback(key, () => this.fetchReferrers(name, digest, via), async () => null);
  }

  private async kept<T>(key: string): Promise<T[] | null> {
    return (await this.d.meta.get<ListDoc<T>>(key, { remember: false }))?.items ?? null;
  }

  private async withFallback<T>(key: string, fetch: () => Promise<T[]>, held: () => Promise<T[] | null>): Promise<T[]> {
    try {
      const items = await fetch();
      await this.keep(key, items);
      return items;
    } catch (e) {
      // The upstream's own answers (not found, no referrers API) are the truth, not a failure.
      if (!isRegistryError(e) || e.kind === 'not_found' || e.kind === 'unsupported') throw e;
      const kept = await this.d.meta.get<ListDoc<T>>(key, { remember: false });
      if (kept && mayServeStale(kept.fetchedAt, this.d.now(), this.d.rule)) {
        this.d.log.warn('serving a stale list', { repo: this.d.repo, key, error: String(e) });
        return kept.items;
      }
      const fallback = kept ? null : await held();
      if (fallback) return fallback;
      throw e;
    }
  }

  private async keep<T>(key: string, items: T[]): Promise<void> {
    const doc: ListDoc<T> = { items, fetchedAt: this.d.now() };
    if (JSON.stringify(doc).length > MAX_KEPT_BYTES) return;
    // Best effort: a full disk must not fail a list the upstream just answered.
    await this.d.meta.put(key, doc, { remember: false }).catch((e: unknown) => this.d.log.warn('could not keep a list', { key, error: String(e) }));
  }

  private async fetchTags(name: string, via: string | undefined): Promise<string[]> {
    const pages: string[][] = [];
    let path: string | null = `/v2/${name}/tags/list`;
    for (let i = 0; path && i < MAX_TAG_PAGES; i++) {
      const res: Response = await this.d.upstream.request({ method: 'GET', path, scope: `repository:${name}:pull`, via });
      if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'tag list', 'NAME_UNKNOWN');
      const body = (await res.json().catch(() => ({}))) as { tags?: unknown };
      pages.push(Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : []);
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '')?.[1];
      path = next ? new URL(next, 'http://upstream').pathname + new URL(next, 'http://upstream').search : null;
    }
    return mergeSorted(pages);
  }

  private async fetchReferrers(name: string, digest: Digest, via: string | undefined): Promise<Descriptor[]> {
    const res = await this.d.upstream.request({ method: 'GET', path: `/v2/${name}/referrers/${digest.value}`, accept: MEDIA.ociIndex, scope: `repository:${name}:pull`, via });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError('unsupported', `upstream ${this.d.upstream.host} does not serve the referrers API`, { code: 'UNSUPPORTED' });
    }
    if (res.status !== 200) throw await upstreamFailure(res, this.d.upstream.host, 'referrers', 'NAME_UNKNOWN');
    const body = await readLimited(res.body, this.d.manifestMaxBytes, this.d.idleTimeoutMs, 'referrers index');
    try {
      const doc = JSON.parse(new TextDecoder().decode(body)) as { manifests?: unknown };
      if (!Array.isArray(doc.manifests)) throw new Error('no manifests array');
      return doc.manifests.filter((m): m is Descriptor => typeof m === 'object' && m !== null);
    } catch (e) {
      throw new RegistryError('upstream', `upstream ${this.d.upstream.host} sent a malformed referrers index`, { cause: e });
    }
  }
}
