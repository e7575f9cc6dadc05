import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crateFile, indexPathOf, publishFrame, sha256 } from '../helpers/cargo.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer } from '../helpers/process-server.ts';
import { tempDir } from '../helpers/tmp.ts';

// Issue 28: a cargo publish is read as it streams (the frame, then the crate through the runtime's
// DecompressionStream and tar-stream); Bun and Deno must give the same answers as Node.
for (const rt of ['bun', 'deno'] as const) {
  describe(`Cargo publishes on ${rt}`, () => {
    let work: Awaited<ReturnType<typeof tempDir>>;
    let srv: ProcessServer;
    before(async () => {
      work = await tempDir(`cargo-${rt}-`);
      srv = await startProcessServer(rt, { storage: { type: 'fs', path: join(work.path, 'data') }, repos: [{ name: 'corp', format: 'cargo', type: 'local' }] }, work.path);
    });
    after(async () => {
      await srv?.stop();
      await work?.cleanup();
    });

    it('a publish lands in the index with our cksum and downloads byte for byte; a crate that is not gzip is 400 with the reason', async () => {
      const crate = await crateFile({ name: 'rt-crate', vers: '1.0.0', padding: 200_000 });
      const res = await fetch(`${srv.url}/repo/corp/api/v1/crates/new`, { method: 'PUT', body: publishFrame({ name: 'rt-crate', vers: '1.0.0', deps: [] }, crate) });
      assert.equal(res.status, 200, await res.clone().text());
      const line = JSON.parse((await (await fetch(`${srv.url}/repo/corp/index/${indexPathOf('rt-crate')}`)).text()).trim()) as { cksum: string };
      assert.equal(line.cksum, sha256(crate));
      assert.equal(sha256(new Uint8Array(await (await fetch(`${srv.url}/repo/corp/api/v1/crates/rt-crate/1.0.0/download`)).arrayBuffer())), sha256(crate));
      const bad = await fetch(`${srv.url}/repo/corp/api/v1/crates/new`, { method: 'PUT', body: publishFrame({ name: 'x1', vers: '1.0.0', deps: [] }, new TextEncoder().encode('not gzip')) });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { errors: Array<{ detail: string }> }).errors[0]?.detail ?? '', /not a gzip-compressed tar archive/);
    });
  });
}
