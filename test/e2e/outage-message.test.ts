import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { podmanIn } from '../helpers/listen.ts';
import { freePort } from '../helpers/net.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 24, 12: with Docker Hub down, podman users saw only "503 Service Unavailable": the reason
// was in the body, which containers/image never reads for a 5xx. It prints the status line, so on
// Node the reason phrase carries it. (Bun's and Deno's servers send the standard phrase whatever
// the Response says: there the reason is in the body only.)
describe('an upstream outage as podman shows it (Node)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: ProcessServer;
  before(async () => {
    dir = await tempDir('outage-');
    const closed = await freePort();
    srv = await startProcessServer('node', { storage: { type: 'fs', path: join(dir.path, 'data') }, repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: `http://127.0.0.1:${closed}`, breakerFailures: 1000 } }] }, dir.path);
  });
  after(() => closeAll(() => srv?.stop(), () => dir?.cleanup()));

  it('podman pull names the unreachable upstream', async () => {
    const podman = podmanIn(join(dir.path, 'podman'));
    const host = srv.url.replace('http://', '');
    const r = await podman(['pull', '--tls-verify=false', `${host}/hub/library/alpine:3.20`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /503 upstream 127\.0\.0\.1:\d+ unreachable/);
  });
});
