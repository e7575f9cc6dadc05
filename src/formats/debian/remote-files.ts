import type { StoredNegativeCache } from '../../cache/stored-negative.ts';
import { RegistryError } from '../../errors.ts';
import { parseDigest } from '../../storage/digest.ts';
import type { UpstreamClient } from '../../upstream/client.ts';
import { upstreamFailure } from '../../upstream/errors.ts';
import type { RwLock } from '../../util/rwlock.ts';
import type { RemoteCacheDeps } from '../remote-cache.ts';
import { cachedFile } from '../remote-file.ts';
import type { CachedFile } from '../remote-file.ts';
import { debLayout } from './layout.ts';
import type { CachedDebDoc } from './layout.ts';
import { notFound } from './reader.ts';

export interface DebRemoteDeps extends RemoteCacheDeps {
  negative: StoredNegativeCache;
  upstream: UpstreamClient;
  gcGate: RwLock;
  maxIndexBytes: number;
  maxDebBytes: number;
}

async function get(d: DebRemoteDeps, path: string, via: string | undefined, what: string): Promise<Response> {
  const res = await d.upstream.request({ method: 'GET', path, scope: '', via });
  if (res.status !== 200) throw await upstreamFailure(res, d.upstream.host, what, 'NOT_FOUND');
  return res;
}

/** An index file by its SHA256: one upstream request (by-hash first where offered: those URLs never change under a client mid-update), verified, stored under its hash. */
export function cachedIndex(d: DebRemoteDeps, suite: string, path: string, hex: string, byHash: boolean, via: string | undefined): Promise<CachedFile> {
  const dir = path.includes('/by-hash/') ? path.slice(0, path.indexOf('/by-hash/')) : path.slice(0, path.lastIndexOf('/'));
  const hashed = `dists/${suite}/${dir}/by-hash/SHA256/${hex}`;
  const plain = path.includes('/by-hash/') ? null : `dists/${suite}/${path}`;
  const expected = parseDigest(`sha256:${hex}`);
  if (!expected.ok) throw new RegistryError('invalid', 'not a SHA256');
  return cachedFile<CachedDebDoc>(d, {
    fillKey: `debian:${d.repo}:index:${hex}`,
    docKey: debLayout.index(d.repo, hex),
    negKey: `index:${hex}`,
    what: `dists/${suite}/${path}`,
    maxBytes: d.maxIndexBytes,
    source: async () => ({
      expected: expected.digest,
      fetch: async () => {
        if (!plain) return get(d, hashed, via, hashed);
        if (byHash) {
          const res = await d.upstream.request({ method: 'GET', path: hashed, scope: '', via });
          if (res.status === 200) return res;
          await res.body?.cancel();
        }
        return get(d, plain, via, plain);
      },
    }),
    doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: d.now() }),
  });
}

/** A pool file with the size and SHA256 its index gave: fetched once, verified, kept under its path and hash. */
export function cachedPool(d: DebRemoteDeps, path: string, e: { size: number; sha256: string }, via: string | undefined): Promise<CachedFile> {
  const dg = parseDigest(`sha256:${e.sha256}`);
  if (!dg.ok) throw notFound(path);
  return cachedFile<CachedDebDoc>(d, {
    fillKey: `debian:${d.repo}:pool:${e.sha256}`,
    docKey: debLayout.pool(d.repo, path, e.sha256),
    negKey: `pool:${path}:${e.sha256}`,
    what: path,
    maxBytes: Math.min(d.maxDebBytes, e.size),
    source: async () => ({ expected: dg.digest, fetch: () => get(d, path, via, path) }),
    doc: (b) => ({ digest: b.digest.value, size: b.size, storedAt: d.now() }),
  });
}
