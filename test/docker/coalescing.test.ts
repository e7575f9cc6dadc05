import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeUpstream } from '../helpers/fake-upstream.ts';
import type { FakeUpstream } from '../helpers/fake-upstream.ts';
import { makeImage, pushImage, sha256 } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { startRelay } from '../helpers/relay.ts';
import type { Relay } from '../helpers/relay.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';

describe('coalescing: 8 clients pull one uncached image from a real registry', () => {
  let reg: RunningRegistry;
  let relay: Relay;
  let br: TestServer;

  before(async () => {
    reg = await startRegistry();
    relay = await startRelay(reg.url, { bytesPerSecond: 40 * 1024 * 1024 });
    br = await startServer({ config: { repos: [remoteRepo('hub', relay.url)] } });
  });
  after(() => closeAll(() => br?.close(), () => relay?.close(), () => reg?.stop()));

  it('makes exactly one upstream GET per blob and one per manifest; every client gets correct bytes', async () => {
    const img = await makeImage({ layerSizes: [4_000_000, 2_000_000, 1_000_000] });
    await pushImage(reg.url, 'team/big', 'v1', img);
    relay.reset();
    const pulls = await Promise.all(Array.from({ length: 8 }, () => pullImage(`${br.url}/repo/hub`, 'team/big', 'v1')));
    for (const p of pulls) assert.equal(p.manifestDigest, img.manifest.digest);
    for (const b of [img.config, ...img.layers]) {
      assert.equal(relay.count('GET', `/blobs/${b.digest}`), 1, `one upstream GET for ${b.digest}`);
    }
    assert.equal(relay.count('GET', '/manifests/'), 1);
    const size = [img.config, ...img.layers].reduce((a, b) => a + b.bytes.byteLength, 0);
    assert.ok(relay.bytes.value < size * 1.01, `upstream bytes ${relay.bytes.value} ≈ image size ${size}`);
    const caches = pulls.flatMap((p) => p.cache.slice(1));
    assert.ok(caches.includes('COALESCED'), 'some clients joined a fill in progress');
  });
});

describe('coalescing: late joiners stream from the fill as it arrives', () => {
  let up: FakeUpstream;
  let br: TestServer;

  before(async () => {
    up = await startFakeUpstream();
    br = await startServer({ config: { repos: [remoteRepo('hub', up.url)] } });
  });
  after(() => closeAll(() => br?.close(), () => up?.close()));

  it('a late joiner gets its first bytes before the upstream download finishes', async () => {
    const bytes = randomBytes(3_000_000);
    const digest = sha256(bytes);
    up.blobs.set(digest, bytes);
    let release!: () => void;
    up.behaviour.set(digest, { kind: 'gate', after: 1_000_000, release: new Promise<void>((r) => (release = r)) });
    const url = `${br.url}/repo/hub/v2/team/x/blobs/${digest}`;
    const first = await fetch(url);
    assert.equal(first.headers.get('x-cache'), 'MISS');
    const late = await fetch(url);
    assert.equal(late.headers.get('x-cache'), 'COALESCED');
    const reader = late.body?.getReader();
    assert.ok(reader);
    const chunk = await reader.read();
    assert.ok(!chunk.done && chunk.value.byteLength > 0, 'late joiner has bytes while the upstream is still held');
    release();
    const rest: Uint8Array[] = [chunk.value ?? new Uint8Array()];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    assert.equal(sha256(Buffer.concat(rest)), digest);
    assert.equal(sha256(new Uint8Array(await first.arrayBuffer())), digest);
    assert.equal(up.count('GET', `/blobs/${digest}`), 1);
  });

  it('a client that disconnects does not abort the shared fill', async () => {
    const bytes = randomBytes(2_000_000);
    const digest = sha256(bytes);
    up.blobs.set(digest, bytes);
    up.behaviour.set(digest, { kind: 'drip', chunk: 200_000, delayMs: 20 });
    const url = `${br.url}/repo/hub/v2/team/x/blobs/${digest}`;
    const ctl = new AbortController();
    const first = await fetch(url, { signal: ctl.signal });
    const reader = first.body?.getReader();
    await reader?.read();
    ctl.abort();
    // The fill goes on without any client; once done the blob is a cache HIT.
    const until = Date.now() + 10_000;
    let cache = '';
    while (Date.now() < until) {
      const r = await fetch(url, { method: 'HEAD' });
      cache = r.headers.get('x-cache') ?? '';
      if (cache === 'HIT') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(cache, 'HIT');
    assert.equal(up.count('GET', `/blobs/${digest}`), 1);
  });

  it('a request right after a cold download finishes is a HIT and asks upstream nothing', async () => {
    // The fill commits the blob, then links it in the repo: a request landing in between must wait
    // for the link rather than ask upstream whether it has the blob (CI once caught that window).
    for (let i = 0; i < 100; i++) {
      const bytes = randomBytes(50_000 + i);
      const digest = sha256(bytes);
      up.blobs.set(digest, bytes);
      const url = `${br.url}/repo/hub/v2/team/x/blobs/${digest}`;
      const cold = await fetch(url);
      assert.equal(sha256(new Uint8Array(await cold.arrayBuffer())), digest);
      const upstreamCalls = (): number => up.count('GET', `/blobs/${digest}`) + up.count('HEAD', `/blobs/${digest}`);
      const calls = upstreamCalls();
      const [warmHead, warmGet] = await Promise.all([fetch(url, { method: 'HEAD' }), fetch(url)]);
      await warmGet.arrayBuffer();
      assert.equal(warmHead.headers.get('x-cache'), 'HIT', `HEAD ${i}`);
      assert.equal(warmGet.headers.get('x-cache'), 'HIT', `GET ${i}`);
      assert.equal(upstreamCalls(), calls, `no upstream request for a blob just cached (${i})`);
    }
  });
});
