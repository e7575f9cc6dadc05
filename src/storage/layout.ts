import type { Digest } from './digest.ts';

/**
 * The storage layout, version 1. The core's keys are built here, each format's under
 * `v1/repos/<repo>/<format>/` in its own layout.ts (docker: src/formats/docker/layout.ts), from names
 * the format has already validated against its grammar (driver.ts checks keys once more).
 *
 *   v1/blobs/<alg>/<2 hex>/<hex>                      immutable bytes, shared by every repo and format
 *   v1/tmp/<uuid>                                     in-flight bytes (fills, document writes); same volume
 *                                                     so rename is atomic; emptied when the server starts (the CLI removes only stale ones)
 *   v1/repos/<repo>/docker/_blobs/<alg>/<hex>         link: this repo may serve the blob (JSON)
 *   v1/repos/<repo>/docker/<image>/_manifests/<alg>/<hex>  link: manifest meta (JSON)
 *   v1/repos/<repo>/docker/<image>/_tags/<tag>        tag doc: { digest, mediaType, size, fetchedAt | pushedAt }
 *   v1/repos/<repo>/docker/<image>/_layers/<alg>/<hex>     local repos: blob link of one image (JSON)
 *   v1/repos/<repo>/docker/<image>/_referrers/<alg>/<subject hex>/<alg>-<hex>  descriptor of a referrer
 *   v1/repos/<repo>/docker/<image>/_taglist            remote repos: last upstream tag list { items, fetchedAt }
 *   v1/repos/<repo>/docker/<image>/_upstream_referrers/<alg>-<hex>  remote repos: last upstream referrers
 *   v1/uploads/<uuid>/data, v1/uploads/<uuid>/info     push sessions: bytes so far + { repo, image, startedAt };
 *                                                     kept across restarts, removed on finish/cancel/gc
 *   v1/repos/<repo>/_access/<2 hex>                    remote repos: last access per digest (batched), for eviction
 *   v1/leases/<40 hex>                                shared stores: a replica's lease on a fill or on the storage jobs
 *   v1/auth/token-secret                              HMAC key of issued tokens when the config has none
 *   v1/auth/tokens/<16 hex>                           access tokens: owner, scope, expiry, sha256 of the secret
 *   v1/auth/revoked-sessions/s<sid>                   UI sessions ended by logout: { exp } (the 's' keeps a
 *                                                     base64url id that starts with '-' a valid key segment)
 *
 * Image-name components must start with [a-z0-9], so the `_`-prefixed folders can never collide
 * with an image name such as `team/_tags`.
 */
export const LAYOUT_VERSION = 'v1';

export const layout = {
  blob: (d: Digest): string => `${LAYOUT_VERSION}/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}`,
  temp: (id: string): string => `${LAYOUT_VERSION}/tmp/${id}`,
  tempDir: (): string => `${LAYOUT_VERSION}/tmp`,
  repoRoot: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}`,
  uploadsDir: (): string => `${LAYOUT_VERSION}/uploads`,
  upload: (id: string): string => `${LAYOUT_VERSION}/uploads/${id}`,
  uploadData: (id: string): string => `${LAYOUT_VERSION}/uploads/${id}/data`,
  uploadInfo: (id: string): string => `${LAYOUT_VERSION}/uploads/${id}/info`,
  /** Leases between replicas on a shared store (lease.ts): fills by hashed key, and the storage jobs. */
  lease: (id: string): string => `${LAYOUT_VERSION}/leases/${id}`,
  tokenSecret: (): string => `${LAYOUT_VERSION}/auth/token-secret`,
  accessTokensDir: (): string => `${LAYOUT_VERSION}/auth/tokens`,
  accessToken: (id: string): string => `${LAYOUT_VERSION}/auth/tokens/${id}`,
  /** Logins a command line started and the web UI approves (auth/cli-logins.ts). */
  cliLoginsDir: (): string => `${LAYOUT_VERSION}/auth/cli-logins`,
  revokedSessionsDir: (): string => `${LAYOUT_VERSION}/auth/revoked-sessions`,
  revokedSession: (sid: string): string => `${LAYOUT_VERSION}/auth/revoked-sessions/s${sid}`,
  /** Last access per cached object of a repo, batched (cache/access.ts), whatever its format. */
  accessDir: (repo: string): string => `${LAYOUT_VERSION}/repos/${repo}/_access`,
  access: (repo: string, shard: string): string => `${LAYOUT_VERSION}/repos/${repo}/_access/${shard}`,
};
