import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { run } from '../helpers/net.ts';
import { startProcessServer } from '../helpers/process-server.ts';
import type { ProcessServer, RuntimeName } from '../helpers/process-server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

// The OCI distribution-spec's own conformance suite (opencontainers/distribution-spec/conformance,
// pinned in the Makefile, built by `make setup-oci-conformance`) against a local repo served at the
// host root, on each runtime: pull, push, content discovery, content management, the data tests
// (sha512 included), upload cancel and `?tag=` parameters. Sparse manifests (an index or image whose
// descriptors were never pushed) stay off: binaryrepo refuses them on purpose, as the spec allows.
const BIN = process.env['OCI_CONFORMANCE_BIN'] ?? join(resolve(import.meta.dirname, '..', '..'), '.build', 'bin', 'conformance');

for (const rt of ['node', 'bun', 'deno'] as RuntimeName[]) {
  describe(`OCI distribution-spec conformance suite on ${rt}`, () => {
    let srv: ProcessServer | undefined;
    let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
    after(() => closeAll(() => srv?.stop(), () => dir?.cleanup()));

    it('passes every enabled test', async () => {
      assert.ok(existsSync(BIN), `${BIN} is missing: run \`make setup-oci-conformance\` (go install of the pinned suite)`);
      dir = await tempDir(`oci-conf-${rt}-`);
      srv = await startProcessServer(rt, {
        storage: { type: 'fs', path: join(dir.path, 'data') },
        log: { requests: false },
        defaultRepo: 'loc',
        repos: [{ name: 'loc', format: 'docker', type: 'local' }],
      }, dir.path);
      const r = await run(BIN, [], {
        timeoutMs: 240_000,
        cwd: dir.path,
        env: {
          ...process.env,
          OCI_VERSION: '1.1+dev',
          OCI_REGISTRY: srv.url.replace('http://', ''),
          OCI_TLS: 'disabled',
          OCI_REPO1: 'conformance/one',
          OCI_REPO2: 'conformance/two',
          OCI_API_MANIFESTS_TAG_PARAM: 'true',
          OCI_API_BLOBS_UPLOAD_CANCEL: 'true',
          OCI_RESULTS_DIR: join(dir.path, 'results'),
        },
      });
      const out = `${r.stdout}\n${r.stderr}`;
      const failed = out.split('\n').filter((l) => l.includes('failed test'));
      assert.equal(r.code, 0, `conformance suite failed on ${rt}:\n${failed.slice(0, 20).join('\n') || out.slice(-3000)}`);
      assert.match(out, /OCI Conformance Test: Pass/);
      assert.match(out, /Tag Param sha512\.*:\s+Pass/, 'the tag-parameter tests ran');
    });
  });
}
