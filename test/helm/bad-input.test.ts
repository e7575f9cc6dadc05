import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGzip } from 'node:zlib';
import { tarGz } from '../helpers/helm.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

const CHART_YAML = (name: string, version: string): string => `apiVersion: v2\nname: ${name}\nversion: ${version}\n`;

/** A gzip of a tar holding one file of `size` zero bytes: a few hundred KB that unpack to `size`. */
async function tarBomb(size: number): Promise<Uint8Array> {
  const header = new Uint8Array(512);
  const put = (at: number, text: string): void => header.set(new TextEncoder().encode(text), at);
  put(0, 'bomb/zeros');
  put(100, '0000644\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, `${size.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0');
  put(156, '0');
  put(257, 'ustar\0');
  put(263, '00');
  put(148, '        ');
  const sum = header.reduce((a, b) => a + b, 0);
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const gz = createGzip();
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => gz.on('end', r));
  gz.write(header);
  const zeros = new Uint8Array(1 << 20);
  for (let left = size + 1024; left > 0; left -= zeros.length) {
    if (!gz.write(zeros.subarray(0, Math.min(zeros.length, left)))) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
  return new Uint8Array(Buffer.concat(out));
}

// Issue 12: malformed and hostile chart archives get a clear 4xx in ChartMuseum's error shape,
// the index does not change and nothing is stored.
describe('Helm local repo: bad input', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  const url = (): string => `${br.url}/repo/charts`;

  before(async () => {
    work = await tempDir('helm-bad-');
    br = await startServer({ dataDir: join(work.path, 'data'), config: { repos: [{ name: 'charts', format: 'helm', type: 'local', maxChartBytes: 1 << 20 }] } });
    const ok = await fetch(`${url()}/api/charts`, { method: 'POST', body: await tarGz([{ name: 'good/Chart.yaml', data: CHART_YAML('good', '1.0.0') }]) });
    assert.equal(ok.status, 201, await ok.text());
  });
  after(() => closeAll(() => br?.close(), () => work?.cleanup()));

  const blobs = async (): Promise<string[]> => (await readdir(join(work.path, 'data', 'v1', 'blobs'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);

  it('refuses each malformed archive with a reason; index and store unchanged', async () => {
    const index = await (await fetch(`${url()}/index.yaml`)).text();
    const stored = await blobs();
    const cases: Array<[string, Uint8Array, RegExp, number?]> = [
      ['not gzip', new TextEncoder().encode('just text, not an archive'), /not a gzip-compressed tar archive/],
      ['gzip of no tar', new Uint8Array(await new Response(new Blob(['hello']).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer()), /not a gzip-compressed tar archive/],
      ['no Chart.yaml', await tarGz([{ name: 'c/values.yaml', data: 'a: 1\n' }]), /no Chart.yaml/],
      ['Chart.yaml not in the top folder', await tarGz([{ name: 'c/sub/Chart.yaml', data: CHART_YAML('c', '1.0.0') }]), /no Chart.yaml/],
      ['two top folders', await tarGz([{ name: 'a/Chart.yaml', data: CHART_YAML('a', '1.0.0') }, { name: 'b/x.yaml', data: 'x' }]), /more than one top folder/],
      ['bad SemVer', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', '1.0') }]), /not a SemVer 2 version/],
      ['leading v', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', 'v1.0.0') }]), /not a SemVer 2 version/],
      ['name with a slash', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('../c', '1.0.0') }]), /name is missing or invalid/],
      ['traversal in an entry', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', '1.0.0') }, { name: 'c/../../etc/passwd', data: 'x' }]), /unsafe path/],
      ['absolute entry', await tarGz([{ name: '/c/Chart.yaml', data: CHART_YAML('c', '1.0.0') }]), /unsafe path/],
      ['symlink entry', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', '1.0.0') }, { name: 'c/link', type: 'symlink', linkname: '/etc/passwd' }]), /only files and folders/],
      ['YAML alias bomb', await tarGz([{ name: 'c/Chart.yaml', data: `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n${CHART_YAML('c', '1.0.0')}` }]), /not valid YAML/],
      // Issue 24, 20: 1.1 KB nested this deep blocked the event loop ~6 s on the way to "Maximum call stack".
      ['deeply nested Chart.yaml', await tarGz([{ name: 'c/Chart.yaml', data: `${CHART_YAML('c', '1.0.0')}x: ${'['.repeat(550)}${']'.repeat(550)}\n` }]), /nests deeper than 64 levels/],
      ['oversize archive', await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', '1.0.0') }, { name: 'c/noise', data: randomBytes(3 << 20).toString('base64') }]), /larger than 1048576 bytes/, 413],
      ['tar bomb', await tarBomb(80 << 20), /unpacks to more than/],
    ];
    for (const [what, body, reason, status] of cases) {
      const r = await fetch(`${url()}/api/charts`, { method: 'POST', body });
      const text = await r.text();
      assert.equal(r.status, status ?? 400, `${what}: ${text}`);
      assert.match((JSON.parse(text) as { error: string }).error, reason, what);
    }
    const put = await fetch(`${url()}/charts/other-1.0.0.tgz`, { method: 'PUT', body: await tarGz([{ name: 'c/Chart.yaml', data: CHART_YAML('c', '1.0.0') }]) });
    assert.equal(put.status, 400);
    assert.match(await put.text(), /does not match the chart's name and version \(c-1.0.0.tgz\)/);
    const prov = await fetch(`${url()}/api/prov`, { method: 'POST', body: 'not a provenance file' });
    assert.equal(prov.status, 400);
    assert.equal(await (await fetch(`${url()}/index.yaml`)).text(), index, 'index unchanged');
    assert.deepEqual((await blobs()).sort(), stored.sort(), 'nothing stored');
  });

  it('bad paths: 404 in JSON, never a 500; methods a remote or the index do not take: 405', async () => {
    for (const p of ['/charts/..%2Findex.yaml', '/charts/x/y.tgz', '/api/charts/a/b/c', '/nothing', '/charts/missing-1.0.0.tgz', '/charts/%ZZ.tgz']) {
      const r = await fetch(`${url()}${p}`);
      assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/, p);
      await r.body?.cancel();
    }
    assert.equal((await fetch(`${url()}/index.yaml`, { method: 'PATCH' })).status, 405);
  });
});
