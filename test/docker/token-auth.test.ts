import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeImage, pushImage } from '../helpers/images.ts';
import type { TestImage } from '../helpers/images.ts';
import { pullImage } from '../helpers/pull.ts';
import { startRegistry } from '../helpers/registry.ts';
import type { RunningRegistry } from '../helpers/registry.ts';
import { remoteRepo, startServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { tempDir } from '../helpers/tmp.ts';
import { startTokenIssuer } from '../helpers/token-issuer.ts';
import type { TokenIssuer } from '../helpers/token-issuer.ts';
import { closeAll } from '../helpers/teardown.ts';

// The Docker Hub token flow against real registry code: docker-registry in auth.token mode,
// challenged with WWW-Authenticate: Bearer realm,service,scope; tokens from our small issuer.
describe('upstream token auth against docker-registry (auth.token)', () => {
  let plain: RunningRegistry;
  let secured: RunningRegistry;
  let issuer: TokenIssuer;
  let anonIssuer: TokenIssuer;
  let securedAnon: RunningRegistry;
  let br: TestServer;
  let img: TestImage;
  let dir: { path: string; cleanup: () => Promise<void> };

  before(async () => {
    dir = await tempDir('token-');
    plain = await startRegistry();
    img = await makeImage({ layerSizes: [200_000, 300_000] });
    await pushImage(plain.url, 'private/app', '1.0', img);
    // Two more registries over the same storage: one wants users, one hands out anonymous tokens.
    issuer = await startTokenIssuer(dir.path, { users: { robot: 's3cret' } });
    secured = await startRegistry({ rootDir: plain.rootDir, token: { realm: issuer.realm, service: issuer.service, issuer: issuer.issuer, rootCertBundle: issuer.certPath } });
    const anonDir = await tempDir('token-anon-');
    anonIssuer = await startTokenIssuer(anonDir.path);
    securedAnon = await startRegistry({ rootDir: plain.rootDir, token: { realm: anonIssuer.realm, service: anonIssuer.service, issuer: anonIssuer.issuer, rootCertBundle: anonIssuer.certPath } });
    br = await startServer({
      config: {
        repos: [
          remoteRepo('priv', secured.url, { upstream: { username: 'robot', password: 's3cret' } }),
          remoteRepo('wrongpw', secured.url, { upstream: { username: 'robot', password: 'nope' } }),
          remoteRepo('anon', securedAnon.url),
        ],
      },
    });
  });
  after(() =>
    closeAll(
      () => br?.close(),
      () => secured?.stop(),
      () => securedAnon?.stop(),
      () => plain?.stop(),
      () => issuer?.close(),
      () => anonIssuer?.close(),
      () => dir?.cleanup(),
    ),
  );

  it('the registry really demands a token', async () => {
    const r = await fetch(`${secured.url}/v2/private/app/manifests/1.0`);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    await r.body?.cancel();
  });

  it('pulls with credentials through the token flow, caching the token per scope', async () => {
    const p = await pullImage(`${br.url}/repo/priv`, 'private/app', '1.0');
    assert.equal(p.manifestDigest, img.manifest.digest);
    assert.equal(issuer.requests.withBasic, issuer.requests.value, 'every token request carried the repo credentials');
    assert.ok(issuer.requests.value <= 2, `token reused across the pull's requests (${issuer.requests.value} token requests)`);
  });

  it('pulls anonymously when the token server grants anonymous pulls', async () => {
    const p = await pullImage(`${br.url}/repo/anon`, 'private/app', '1.0');
    assert.equal(p.manifestDigest, img.manifest.digest);
    assert.ok(anonIssuer.requests.value >= 1);
    assert.equal(anonIssuer.requests.withBasic, 0);
  });

  it('wrong upstream credentials → a clear upstream error, not a 404', async () => {
    const r = await fetch(`${br.url}/repo/wrongpw/v2/private/app/manifests/1.0`);
    // 502 naming the upstream: a 401 of ours would make the client try to log in to us.
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('www-authenticate'), null);
    const body = (await r.json()) as { errors: Array<{ code: string; message: string }> };
    assert.equal(body.errors[0]?.code, 'UPSTREAM_ERROR');
    assert.match(body.errors[0]?.message ?? '', /token server|refused/);
  });

  it('never forwards the client Authorization upstream', async () => {
    const before = issuer.requests.value;
    const r = await fetch(`${br.url}/repo/wrongpw/v2/private/app/manifests/1.0`, {
      headers: { authorization: `Basic ${Buffer.from('robot:s3cret').toString('base64')}` },
    });
    assert.notEqual(r.status, 200, 'the client credentials did not reach the upstream');
    await r.body?.cancel();
    assert.ok(issuer.requests.value > before);
  });
});
