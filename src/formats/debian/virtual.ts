import { Lru } from '../../util/lru.ts';
import { digestOf } from '../../storage/digest.ts';
import type { CachedFile } from '../remote-file.ts';
import { field, parseStanzas, renderStanza } from './control.ts';
import { notFound } from './reader.ts';
import type { DebReader, MemberIndex, SuiteFile } from './reader.ts';
import { suiteFileOf } from './suite-files.ts';
import { buildSuite } from './suite-gen.ts';
import type { Generation, IndexItem, SuitePublisher, SuiteShape } from './suite-gen.ts';

/**
 * One apt repository over ordered members: each suite's indexes merged from the members'
 * (a package version from the first member that has it), generated again and signed with the
 * virtual repo's own key whenever a member's generation changes. A package name a local member
 * hosts in the suite is never taken from a remote (dependency confusion). Pool files are fetched
 * from the member whose stanza the merged index took, and only those.
 */
export class DebVirtual implements DebReader {
  readonly type = 'virtual' as const;

  constructor(
    readonly name: string,
    private readonly members: DebReader[],
    private readonly shapeOf: SuiteShape,
    private readonly publisher: SuitePublisher,
    private readonly now: () => number,
    private readonly routes = new Lru<Map<string, DebReader>>(200, 64 << 20, (m) => m.size * 200),
  ) {}

  restrictedTo(readable: (member: string) => boolean): DebVirtual {
    return new DebVirtual(this.name, this.members.filter((m) => readable(m.name)), this.shapeOf, this.publisher, this.now, this.routes);
  }

  async shape(): Promise<{ components: string[]; architectures: string[] }> {
    return this.shapeOf;
  }

  async suites(): Promise<string[]> {
    const all = new Set<string>();
    for (const m of this.members) for (const s of await m.suites()) all.add(s);
    return [...all];
  }

  private async generation(suite: string, via: string | undefined): Promise<Generation> {
    const parts: Array<{ m: DebReader; comp: string; arch: string; idx: MemberIndex }> = [];
    for (const m of this.members) {
      for (const comp of this.shapeOf.components) {
        for (const arch of this.shapeOf.architectures) {
          const idx = await m.index(suite, comp, arch, via);
          if (idx) parts.push({ m, comp, arch, idx });
        }
      }
    }
    if (parts.length === 0) throw notFound(`suite ${suite} in any member of ${this.name}`);
    const id = digestOf(new TextEncoder().encode(JSON.stringify([this.members.map((m) => m.name), parts.map((p) => [p.m.name, p.comp, p.arch, p.idx.gen])]))).value;
    const build = async (): Promise<{ files: Map<string, Uint8Array>; release: string }> => {
      const { items, route } = await this.merge(suite, parts);
      this.routes.set(`${suite}\0${id}`, route);
      return buildSuite(this.name, suite, this.shapeOf, items, this.now());
    };
    const g = await this.publisher.generation(suite, id, this.now(), build);
    // The generation may outlive its routes in memory: they are merged again then.
    if (!this.routes.get(`${suite}\0${id}`)) this.routes.set(`${suite}\0${id}`, (await this.merge(suite, parts)).route);
    return g;
  }

  private async merge(suite: string, parts: Array<{ m: DebReader; comp: string; arch: string; idx: MemberIndex }>): Promise<{ items: IndexItem[]; route: Map<string, DebReader> }> {
    const hosted = new Set<string>();
    for (const m of this.members) if (m.type === 'local') for (const n of (await m.hosts?.(suite)) ?? []) hosted.add(n);
    const seen = new Set<string>();
    const route = new Map<string, DebReader>();
    const owner = new Map<string, string>();
    const items: IndexItem[] = [];
    for (const p of parts) {
      for (const s of await p.idx.stanzas()) {
        const name = field(s, 'Package') ?? '';
        const version = field(s, 'Version') ?? '';
        const arch = field(s, 'Architecture') ?? '';
        const file = field(s, 'Filename') ?? '';
        const sha = field(s, 'SHA256') ?? '';
        if (!name || !file || (p.m.type !== 'local' && hosted.has(name))) continue;
        const key = `${p.comp}\0${name}\0${version}\0${arch}`;
        if (seen.has(key) || (owner.has(file) && owner.get(file) !== sha)) continue;
        let text: string;
        try {
          text = renderStanza(s);
        } catch {
          continue; // a stanza this index cannot carry safely is left out, never passed on
        }
        seen.add(key);
        owner.set(file, sha);
        if (!route.has(file)) route.set(file, p.m);
        items.push({ component: p.comp, arch: arch === 'all' ? 'all' : p.arch, name, version, text });
      }
    }
    return { items, route };
  }

  async suiteFile(suite: string, path: string, client: string, via: string | undefined): Promise<SuiteFile> {
    const g = await this.generation(suite, via);
    return suiteFileOf(g, path, suite, (hex) => this.publisher.byHash(suite, hex, g), 'LOCAL');
  }

  async pool(path: string, via: string | undefined, client: string): Promise<CachedFile> {
    for (const suite of await this.suites()) {
      const g = await this.generation(suite, via);
      const m = this.routes.get(`${suite}\0${g.id}`)?.get(path);
      if (m) return m.pool(path, via, client);
    }
    throw notFound(`${path} (no index of ${this.name} lists it)`);
  }

  async index(suite: string, component: string, arch: string, via: string | undefined): Promise<MemberIndex | null> {
    const g = await this.generation(suite, via).catch(() => null);
    const f = g?.files.get(`${component}/binary-${arch}/Packages`);
    if (!g || !f) return null;
    return { gen: g.id, stanzas: async () => parseStanzas(new TextDecoder().decode(f.bytes)) };
  }
}
