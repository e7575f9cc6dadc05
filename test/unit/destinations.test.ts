import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Destinations, isInternal } from '../../src/upstream/destinations.ts';

// Issue 24, 17: where an upstream may send us (redirects, absolute chart URLs).
describe('upstream destinations', () => {
  it('a public upstream may lead anywhere public, never to an internal address', () => {
    const d = new Destinations(new URL('https://charts.example.com/'), undefined);
    for (const ok of ['https://github.com/x.tgz', 'https://objects.githubusercontent.com/a', 'https://charts.example.com/b', 'http://93.184.216.34/c']) assert.equal(d.refuse(new URL(ok)), null, ok);
    for (const bad of ['http://127.0.0.1:8081/api/v1/gc', 'http://localhost/', 'http://10.1.2.3/', 'http://172.20.0.1/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[fe80::1]/', 'http://[fd00::1]/', 'http://[::ffff:127.0.0.1]/', 'http://0.0.0.0/', 'http://100.64.0.1/', 'http://metadata.google.internal/', 'http://a.localhost/']) {
      assert.match(d.refuse(new URL(bad)) ?? '', /internal address/, bad);
    }
  });
  it('an internal upstream (a mirror inside the network) may lead to other internal hosts', () => {
    const d = new Destinations(new URL('http://10.0.0.5:8080/'), undefined);
    assert.equal(d.refuse(new URL('http://10.0.0.6/blob')), null);
  });
  it('with allowHosts, only the listed hosts and its own', () => {
    const d = new Destinations(new URL('http://127.0.0.1:5000/'), ['*.cdn.example.com', '127.0.0.1:7000']);
    assert.equal(d.refuse(new URL('https://eu.cdn.example.com/x')), null);
    assert.equal(d.refuse(new URL('http://127.0.0.1:7000/x')), null);
    assert.equal(d.refuse(new URL('http://127.0.0.1:5000/x')), null);
    assert.match(d.refuse(new URL('http://127.0.0.1:7001/x')) ?? '', /not in upstream.allowHosts/);
    assert.match(d.refuse(new URL('https://github.com/x')) ?? '', /not in upstream.allowHosts/);
  });
  it('classifies addresses', () => {
    assert.equal(isInternal('8.8.8.8'), false);
    assert.equal(isInternal('172.32.0.1'), false);
    assert.equal(isInternal('2606:4700::1111'), false);
  });
});
