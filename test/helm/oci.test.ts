import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PASSWORDS, authConfig, token } from '../helpers/auth.ts';
import { bytesOf, helm, packageChart, testKeyring } from '../helpers/helm.ts';
import { startTlsFrontDoor } from '../helpers/nginx.ts';
import type { RunningNginx } from '../helpers/nginx.ts';
import { startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { closeAll } from '../helpers/teardown.ts';
import { tempDir } from '../helpers/tmp.ts';

interface Manifest {
  config: { mediaType: string };
  layers: Array<{ mediaType: string; digest: string }>;
}

// Issue 12: OCI charts through the Docker repos with the real helm: push, pull and template, plain
// HTTP with credentials on the command line, TLS through nginx after `helm registry login`, a
// signed chart's provenance layer, and a virtual Docker repo.
describe('Helm OCI charts through Docker repos', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let br: TestServer;
  let tls: { ngx: RunningNginx; certDir: string };
  let chart: string;
  let home: string;
  const host = (): string => br.url.replace('http://', '');
  const creds = ['--username', 'writer', '--password', PASSWORDS.writer];

  before(async () => {
    work = await tempDir('helm-oci-');
    home = join(work.path, 'home');
    const keys = await testKeyring(work.path);
    chart = await packageChart(home, join(work.path, 'src'), { name: 'alpha', version: '0.1.0' }, { key: keys.key, keyring: keys.secring });
    br = await startServer({
      config: {
        auth: await authConfig(),
        repos: [
          { name: 'oci', format: 'docker', type: 'local', permissions: { read: ['authenticated'], write: ['writer'] } },
          { name: 'ocivirt', format: 'docker', type: 'virtual', members: ['oci'], permissions: { read: ['authenticated'] } },
        ],
      },
    });
    tls = await startTlsFrontDoor(work.path, br.url, 'oci');
  });
  after(() => closeAll(() => tls?.ngx.stop(), () => br?.close(), () => work?.cleanup()));

  async function manifest(repo: string, image: string, ref: string): Promise<Manifest> {
    const t = await token(`${br.url}/repo/${repo}/token`, `repository:${image}:pull`, 'writer');
    const r = await fetch(`${br.url}/repo/${repo}/v2/${image}/manifests/${ref}`, { headers: { authorization: `Bearer ${t}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assert.equal(r.status, 200, await r.clone().text());
    return (await r.json()) as Manifest;
  }

  it('helm push over plain HTTP stores Helm\'s media types unchanged, provenance included', async () => {
    const push = await helm(home, ['push', chart, `oci://${host()}/oci/charts`, '--plain-http', ...creds]);
    assert.equal(push.code, 0, push.stderr);
    const m = await manifest('oci', 'charts/alpha', '0.1.0');
    assert.equal(m.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
    const types = m.layers.map((l) => l.mediaType).sort();
    assert.deepEqual(types, ['application/vnd.cncf.helm.chart.content.v1.tar+gzip', 'application/vnd.cncf.helm.chart.provenance.v1.prov']);
    const content = m.layers.find((l) => l.mediaType.endsWith('tar+gzip'));
    assert.equal(content?.digest, `sha256:${createHash('sha256').update(await bytesOf(chart)).digest('hex')}`);
  });

  it('helm pull and template from oci:// through the virtual Docker repo', async () => {
    const dest = join(work.path, 'pulled');
    await mkdir(dest);
    const pull = await helm(home, ['pull', `oci://${host()}/ocivirt/charts/alpha`, '--version', '0.1.0', '--plain-http', '-d', dest, ...creds]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await bytesOf(join(dest, 'alpha-0.1.0.tgz')), await bytesOf(chart));
    const t = await helm(home, ['template', 'rel', `oci://${host()}/ocivirt/charts/alpha`, '--version', '0.1.0', '--plain-http', ...creds]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /kind: Deployment/);
    const anon = await helm(join(work.path, 'anon'), ['pull', `oci://${host()}/ocivirt/charts/alpha`, '--version', '0.1.0', '--plain-http', '-d', dest]);
    assert.notEqual(anon.code, 0, 'anonymous pulls are refused');
  });

  it('helm registry login (token flow) and push/pull over TLS through nginx', async () => {
    const ca = join(tls.certDir, 'ca.crt');
    const where = tls.ngx.url.replace('https://', '');
    const login = await helm(home, ['registry', 'login', where, '--username', 'writer', '--password', PASSWORDS.writer, '--ca-file', ca]);
    assert.equal(login.code, 0, login.stderr);
    const push = await helm(home, ['push', chart, `oci://${where}/tls`, '--ca-file', ca]);
    assert.equal(push.code, 0, push.stderr);
    const dest = join(work.path, 'pulled-tls');
    await mkdir(dest);
    const pull = await helm(home, ['pull', `oci://${where}/tls/alpha`, '--version', '0.1.0', '--ca-file', ca, '-d', dest]);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(await bytesOf(join(dest, 'alpha-0.1.0.tgz')), await bytesOf(chart));
    assert.equal((await manifest('oci', 'tls/alpha', '0.1.0')).config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
  });
});
