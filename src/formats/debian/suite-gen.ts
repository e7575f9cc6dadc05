import { Lru } from '../../util/lru.ts';
import { RegistryError } from '../../errors.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { digestOf, parseDigest } from '../../storage/digest.ts';
import type { Digest } from '../../storage/digest.ts';
import type { MetaStore } from '../../storage/meta-store.ts';
import type { RwLock } from '../../util/rwlock.ts';
import { debLayout } from './layout.ts';
import type { PublishedDoc } from './layout.ts';
import type { RepoKey } from './repo-key.ts';

/** One stanza of a generated Packages index: where it goes and its whole text (Filename, Size, SHA256 included). */
export interface IndexItem {
  component: string;
  /** A binary architecture, or `all` (listed in every architecture's index). */
  arch: string;
  name: string;
  version: string;
  text: string;
}

/** One generation of a suite as served: every index file, the Release and its two signed forms. */
export interface Generation {
  id: string;
  files: Map<string, { bytes: Uint8Array; sha256: string }>;
  release: Uint8Array;
  inRelease: Uint8Array;
  releaseGpg: Uint8Array;
  modified: number;
}

export interface SuiteShape {
  components: string[];
  architectures: string[];
}

const enc = new TextEncoder();
const GENERATIONS_KEPT = 5;

async function gzip(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([b]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
}

/** apt's dates: RFC 2822 in UTC. */
export const releaseDate = (ms: number): string => new Date(ms).toUTCString().replace(/GMT$/, 'UTC');

/**
 * A suite's index files and Release from its stanzas: `Packages` and `Packages.gz` per component
 * and architecture (packages of arch `all` in each, as Debian's archive does and says with
 * No-Support-for-Architecture-all), a Release listing every file by SHA256 with Acquire-By-Hash.
 * A pure function of its input: replicas build the same bytes.
 */
export async function buildSuite(repo: string, suite: string, shape: SuiteShape, items: IndexItem[], modified: number): Promise<{ files: Map<string, Uint8Array>; release: string }> {
  const components = [...new Set([...shape.components, ...items.map((i) => i.component)])];
  const arches = [...new Set([...shape.architectures, ...items.map((i) => i.arch).filter((a) => a !== 'all')])];
  const sorted = [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0));
  const files = new Map<string, Uint8Array>();
  for (const c of components) {
    for (const a of arches) {
      const text = sorted
        .filter((i) => i.component === c && (i.arch === a || i.arch === 'all'))
        .map((i) => `${i.text}\n\n`)
        .join('');
      const bytes = enc.encode(text);
      files.set(`${c}/binary-${a}/Packages`, bytes);
      files.set(`${c}/binary-${a}/Packages.gz`, await gzip(bytes));
    }
  }
  const sums = [...files].map(([p, b]) => ` ${digestOf(b).hex} ${String(b.byteLength).padStart(10)} ${p}`);
  const release = [
    `Origin: ${repo}`,
    `Label: ${repo}`,
    `Suite: ${suite}`,
    `Codename: ${suite}`,
    `Date: ${releaseDate(modified)}`,
    `Architectures: ${arches.join(' ')}`,
    `Components: ${components.join(' ')}`,
    'Acquire-By-Hash: yes',
    'No-Support-for-Architecture-all: Packages',
    'SHA256:',
    ...sums,
    '',
  ].join('\n');
  return { files, release };
}

/**
 * Generations of a local or virtual repo's suites: built once per content (`id`), signed with the
 * repo's key, and their index files written to the store and named in `published/<suite>` before
 * the InRelease naming them is served, so another replica (or this one after a restart) answers
 * their by-hash URLs. The last generations' files stay: a client that read the InRelease before a
 * change still gets every index it names.
 */
export class SuitePublisher {
  private readonly cache = new Lru<Generation>(200, 256 << 20, (g) => [...g.files.values()].reduce((n, f) => n + f.bytes.byteLength, 0) + g.release.byteLength * 3);

  constructor(
    private readonly d: { repo: string; meta: MetaStore; blobs: BlobStore; gcGate: RwLock; key: RepoKey; now: () => number },
  ) {}

  async generation(suite: string, id: string, modified: number, build: () => Promise<{ files: Map<string, Uint8Array>; release: string }>): Promise<Generation> {
    const key = `${suite}\0${id}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const built = await build();
    const signer = await this.d.key.signer();
    // Signed at the content's time (deterministic), never before the key existed (gpgv refuses that).
    const at = Math.max(Math.floor(modified / 1000), signer.created);
    const files = new Map<string, { bytes: Uint8Array; sha256: string }>();
    for (const [p, b] of built.files) files.set(p, { bytes: b, sha256: digestOf(b).hex });
    await this.persist(suite, id, [...files.values()].map((f) => f.bytes));
    const release = enc.encode(built.release);
    const g: Generation = { id, files, release, inRelease: enc.encode(await signer.key.clearSign(built.release, at)), releaseGpg: enc.encode(await signer.key.detached(release, at)), modified };
    this.cache.set(key, g);
    return g;
  }

  private async persist(suite: string, id: string, files: Uint8Array[]): Promise<void> {
    const docKey = debLayout.published(this.d.repo, suite);
    const had = await this.d.meta.get<PublishedDoc>(docKey);
    if (had?.gens.some((g) => g.id === id)) return;
    await this.d.gcGate.withShared(async () => {
      const refs: Array<{ digest: string; size: number }> = [];
      for (const b of files) {
        const s = await this.d.blobs.putBytes(b);
        refs.push({ digest: s.digest.value, size: s.size });
      }
      await this.d.meta.update<PublishedDoc>(docKey, (cur) => {
        const gens = (cur?.gens ?? []).filter((g) => g.id !== id);
        gens.push({ id, at: this.d.now(), files: refs });
        return { gens: gens.slice(-GENERATIONS_KEPT) };
      });
    });
  }

  /** An index file by its hash, from any kept generation of the suite. */
  async byHash(suite: string, hex: string, current: Generation | null): Promise<{ digest: Digest; size: number } | { bytes: Uint8Array }> {
    for (const f of current?.files.values() ?? []) if (f.sha256 === hex) return { bytes: f.bytes };
    const doc = await this.d.meta.get<PublishedDoc>(debLayout.published(this.d.repo, suite));
    for (const g of doc?.gens ?? []) {
      const ref = g.files.find((f) => f.digest === `sha256:${hex}`);
      const dg = ref ? parseDigest(ref.digest) : null;
      if (ref && dg?.ok && (await this.d.blobs.stat(dg.digest))) return { digest: dg.digest, size: ref.size };
    }
    throw new RegistryError('not_found', `no index file of suite ${suite} has SHA256 ${hex}`, { code: 'NOT_FOUND' });
  }
}
