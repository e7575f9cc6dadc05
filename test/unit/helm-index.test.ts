import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { chartMetadata } from '../../src/formats/helm/chart.ts';
import { renderEntries } from '../../src/formats/helm/index-file.ts';
import type { Entries, IndexEntry } from '../../src/formats/helm/index-file.ts';
import { compareSemver, isSemver } from '../../src/util/semver.ts';
import { parseUpstreamIndex } from '../../src/formats/helm/upstream-index.ts';

describe('Helm index rendering, SemVer, upstream index parsing', () => {
  it('orders versions by SemVer 2 precedence (semver.org §11)', () => {
    const order = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.2.0', '1.10.0', '2.0.0'];
    for (let i = 0; i + 1 < order.length; i++) assert.ok(compareSemver(order[i] as string, order[i + 1] as string) < 0, `${order[i]} < ${order[i + 1]}`);
    assert.equal(compareSemver('1.0.0+build.1', '1.0.0+build.2'), 0);
    for (const bad of ['1.0', 'v1.0.0', '01.0.0', '1.0.0-01', '1.0.0-', '1.0.0+']) assert.equal(isSemver(bad), false, bad);
  });

  it('renders YAML that reads back exactly, hostile strings included, in both formats', () => {
    const hostile = ['plain', 'a: b # c', "'single'", '"double"', 'back\\slash', 'line\nbreak', 'tab\tx', '\u2028sep', '\u0085nel', 'del\u007f', '- list?', '&anchor *alias', '{flow}', '@at `tick`', 'yes', 'null', '0x10', '1e3', ' lead', 'trail ', '日本語 ✓'];
    const entries: Entries = new Map<string, IndexEntry[]>([
      [
        'web',
        hostile.map((d, i) => ({
          name: 'web',
          version: `1.0.${i}`,
          description: d,
          urls: [`charts/web-1.0.${i}.tgz`],
          annotations: { [d.length > 0 ? `k/${d}` : 'k']: d },
          keywords: [d, ''],
          maintainers: [{ name: d, email: 'x@example.com' }],
          deprecated: i % 2 === 0,
          dependencies: [],
        })),
      ],
      ['a-first', [{ name: 'a-first', version: '0.1.0', urls: ['charts/a-first-0.1.0.tgz'] }]],
    ]);
    for (const format of ['yaml', 'json'] as const) {
      const text = renderEntries(entries, format, '2026-11-28T00:00:00Z');
      const back = parseYaml(text, { schema: 'core' }) as { apiVersion: string; entries: Record<string, Array<Record<string, unknown>>>; generated: string };
      assert.equal(back.apiVersion, 'v1');
      assert.equal(back.generated, '2026-11-28T00:00:00Z');
      assert.deepEqual(Object.keys(back.entries), ['a-first', 'web'], `${format}: charts by name`);
      const web = back.entries['web'] ?? [];
      assert.deepEqual(web.map((e) => e['version']), hostile.map((_, i) => `1.0.${i}`).sort((a, b) => compareSemver(b, a)), `${format}: newest first`);
      for (const e of web) {
        const i = Number(String(e['version']).split('.')[2]);
        const d = hostile[i] as string;
        assert.equal(e['description'], d, `${format}: ${JSON.stringify(d)}`);
        assert.deepEqual(e['keywords'], [d, '']);
        assert.deepEqual(e['annotations'], { [`k/${d}`]: d });
        assert.deepEqual(e['maintainers'], [{ name: d, email: 'x@example.com' }]);
        assert.equal(e['deprecated'], i % 2 === 0);
        assert.deepEqual(e['dependencies'], []);
      }
    }
  });

  it('reads Chart.yaml strictly', async () => {
    assert.equal((await chartMetadata('apiVersion: v2\nname: ok\nversion: 1.2.3\nappVersion: 1.10\n')).appVersion, '1.1');
    await assert.rejects(chartMetadata('apiVersion: v2\nname: ok\nversion: 1.2.3\nname: again\n'), /not valid YAML/);
    await assert.rejects(chartMetadata('apiVersion: v3\nname: ok\nversion: 1.2.3\n'), /apiVersion/);
    await assert.rejects(chartMetadata('- a list\n'), /not a mapping/);
    await assert.rejects(chartMetadata('apiVersion: v2\nname: ok\nversion: 1.2.3\nannotations: { a: [1] }\n'), /annotations/);
  });

  it('parses an upstream index (YAML or JSON) and rewrites URLs of every kind', async () => {
    const base = 'https://charts.example.com/stable';
    const yaml = `apiVersion: v1
entries:
  rel:
  - name: rel
    version: 1.0.0
    urls: [rel-1.0.0.tgz]
    digest: ${'a'.repeat(64)}
  abs:
  - name: abs
    version: 2.0.0
    urls: ["https://cdn.example.net/abs-2.0.0.tgz"]
  up:
  - name: up
    version: 0.1.0
    urls: ["../other/up-0.1.0.tgz"]
  oci:
  - name: oci
    version: 1.0.0
    urls: ["oci://registry.example.com/charts/oci"]
  bad:
  - name: "../bad"
    version: 1.0.0
    urls: [x.tgz]
  - name: bad
    version: 1.0.0
generated: "2026-01-01T00:00:00Z"
`;
    const warnings: string[] = [];
    for (const text of [yaml, JSON.stringify(parseYaml(yaml))]) {
      const p = await parseUpstreamIndex(text, base, (m) => warnings.push(m));
      assert.deepEqual(p.upstream.get('rel-1.0.0.tgz'), { url: 'https://charts.example.com/stable/rel-1.0.0.tgz', digest: 'a'.repeat(64) });
      assert.deepEqual(p.upstream.get('abs-2.0.0.tgz'), { url: 'https://cdn.example.net/abs-2.0.0.tgz' });
      assert.deepEqual(p.upstream.get('up-0.1.0.tgz'), { url: 'https://charts.example.com/other/up-0.1.0.tgz' });
      assert.deepEqual(p.entries.get('rel')?.[0]?.urls, ['charts/rel-1.0.0.tgz']);
      assert.deepEqual(p.entries.get('oci')?.[0]?.urls, ['oci://registry.example.com/charts/oci']);
      assert.equal(p.entries.has('bad'), false);
      assert.equal(p.generated, '2026-01-01T00:00:00Z');
    }
    assert.equal(warnings.length, 2);
  });
});
