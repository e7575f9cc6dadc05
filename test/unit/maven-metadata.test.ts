import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coordsOf, parseRoute } from '../../src/formats/maven/coords.ts';
import { mergeMetadata, parseMetadata, renderMetadata } from '../../src/formats/maven/metadata.ts';
import { parseXml } from '../../src/formats/maven/xml.ts';
import { compareMavenVersions } from '../../src/util/maven-version.ts';

describe('Maven versions, coordinates and metadata', () => {
  it('orders versions as Maven does', () => {
    const ordered = ['1.0-alpha-1', '1.0-beta1', '1.0-M2', '1.0-rc1', '1.0-SNAPSHOT', '1.0', '1.0-sp1', '1.0.1', '1.1', '1.10', '2.0-RC1', '2.0'];
    const shuffled = [...ordered].reverse();
    assert.deepEqual(shuffled.sort(compareMavenVersions), ordered);
    assert.equal(compareMavenVersions('1.0', '1'), 0);
    assert.equal(compareMavenVersions('1.0.0', '1-ga'), 0);
    assert.equal(compareMavenVersions('1.0-CR1', '1.0-rc1'), 0);
    assert.ok(compareMavenVersions('1.0-foo', '1.0') > 0, 'an unknown qualifier ranks after a release');
    assert.ok(compareMavenVersions('10.0', '9.9') > 0);
  });

  it('reads coordinates from paths, snapshot builds included', () => {
    assert.deepEqual(coordsOf(['org', 'x', 'lib', '1.0', 'lib-1.0-sources.jar']), { group: ['org', 'x'], artifactId: 'lib', version: '1.0', filename: 'lib-1.0-sources.jar', classifier: 'sources', extension: 'jar', build: undefined });
    assert.equal(coordsOf(['org', 'lib', '1.0', 'lib-1.0.tar.gz'])?.extension, 'tar.gz');
    assert.deepEqual(coordsOf(['org', 'lib', '1.0-SNAPSHOT', 'lib-1.0-20261201.101010-3.jar'])?.build, { value: '1.0-20261201.101010-3', timestamp: '20261201.101010', buildNumber: 3 });
    assert.equal(coordsOf(['org', 'lib', '1.0-SNAPSHOT', 'lib-1.0-SNAPSHOT.pom'])?.build, undefined);
    assert.equal(coordsOf(['org', 'lib', '1.0', 'other-1.0.jar']), null);
    assert.equal(coordsOf(['lib', '1.0', 'lib-1.0.jar']), null, 'a group is needed');
    assert.deepEqual(parseRoute('/org/lib/maven-metadata.xml.sha256'), { kind: 'metadata', dir: ['org', 'lib'], sum: 'sha256' });
    assert.deepEqual(parseRoute('/org/lib/1.0/lib-1.0.jar.asc.sha1'), { kind: 'file', path: ['org', 'lib', '1.0', 'lib-1.0.jar.asc'], sum: 'sha1' });
    assert.throws(() => parseRoute('/org/%2e%2e/lib'), /path/);
    assert.throws(() => parseRoute('/org/li b/1/x'), /not a Maven coordinate part/);
  });

  it('never defines or expands an entity; bounds depth; refuses broken XML', () => {
    assert.throws(() => parseXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'), /DOCTYPE/);
    assert.throws(() => parseXml('<x>&unknown;</x>'), /entity/);
    assert.throws(() => parseXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`), /deeper/);
    assert.throws(() => parseXml('<a><b></a>'), /unexpected/);
    assert.throws(() => parseXml('<a/><b/>'), /root/);
    assert.equal(parseXml('<?xml version="1.0"?><!-- c --><a x="1">&lt;&#65;<![CDATA[<b>]]></a>').text, '<A<b>');
  });

  it('merges metadata: versions unioned in order, latest/release the maximum, newest snapshot files per classifier and extension', () => {
    const a = parseMetadata(renderMetadata({ groupId: 'g', artifactId: 'a', versions: ['1.0', '1.1'], latest: '1.1', release: '1.1', lastUpdated: '20260101000000', snapshotVersions: [], plugins: [] }));
    const b = parseMetadata('<metadata><groupId>g</groupId><artifactId>a</artifactId><versioning><versions><version>1.0</version><version>2.0-SNAPSHOT</version><version>1.2</version></versions><lastUpdated>20260301000000</lastUpdated></versioning></metadata>');
    const m = mergeMetadata([a, b]);
    assert.deepEqual(m.versions, ['1.0', '1.1', '1.2', '2.0-SNAPSHOT']);
    assert.equal(m.latest, '2.0-SNAPSHOT');
    assert.equal(m.release, '1.2');
    assert.equal(m.lastUpdated, '20260301000000');
    const s1 = { versions: [], plugins: [], snapshot: { timestamp: '20260101.000000', buildNumber: 1 }, snapshotVersions: [{ extension: 'jar', value: '1-20260101.000000-1', updated: '20260101000000' }, { classifier: 'sources', extension: 'jar', value: '1-20260101.000000-1', updated: '20260101000000' }] };
    const s2 = { versions: [], plugins: [], snapshot: { timestamp: '20260201.000000', buildNumber: 4 }, snapshotVersions: [{ extension: 'jar', value: '1-20260201.000000-4', updated: '20260201000000' }] };
    const ms = mergeMetadata([s1, s2]);
    assert.equal(ms.snapshot?.buildNumber, 4);
    assert.deepEqual(ms.snapshotVersions.map((v) => `${v.classifier ?? ''}:${v.value}`).sort(), [':1-20260201.000000-4', 'sources:1-20260101.000000-1']);
    const round = parseMetadata(renderMetadata(ms));
    assert.deepEqual(round.snapshotVersions.length, 2);
  });
});
