import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, stopChild, waitForHttp } from './net.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** Verdaccio and pnpm, pinned, installed by `make setup-npm-tools` (the tests never download them). */
export const NPM_TOOLS = join(ROOT, '.build', 'npm-tools', 'node_modules', '.bin');

const TOOL_FILES = { verdaccio: join(NPM_TOOLS, 'verdaccio'), pnpm: join(NPM_TOOLS, 'pnpm'), yarn1: join(NPM_TOOLS, '..', 'yarn', 'bin', 'yarn.js'), yarn4: join(NPM_TOOLS, '..', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js') };

export async function toolPath(name: keyof typeof TOOL_FILES): Promise<string> {
  const p = TOOL_FILES[name];
  await access(p).catch(() => {
    throw new Error(`${p} is missing: run make setup-npm-tools`);
  });
  return p;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client with its own config and cache under `home` (nothing of the machine's npm setup leaks in). */
export function runClient(cmd: string, args: string[], opts: { cwd: string; home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((res, rej) => {
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      HOME: opts.home,
      npm_config_userconfig: join(opts.home, '.npmrc'),
      npm_config_cache: join(opts.home, 'npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_fetch_retries: '0',
      npm_config_store_dir: join(opts.home, 'pnpm-store'),
      XDG_CACHE_HOME: join(opts.home, 'xdg-cache'),
      XDG_DATA_HOME: join(opts.home, 'xdg-data'),
      XDG_CONFIG_HOME: join(opts.home, 'xdg-config'),
      NO_COLOR: '1',
      ...opts.env,
    };
    const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', rej);
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code: code ?? -1, stdout, stderr });
    });
  });
}

export const npm = (args: string[], opts: { cwd: string; home: string; env?: Record<string, string> }): Promise<RunResult> => runClient('npm', args, opts);

/** A home with an .npmrc naming the registry (and a token for it, when given). */
export async function npmHome(dir: string, registry: string, token?: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const host = registry.replace(/^https?:/, '');
  const lines = [`registry=${registry}`];
  if (token) lines.push(`${host}:_authToken=${token}`);
  await writeFile(join(dir, '.npmrc'), `${lines.join('\n')}\n`);
  return dir;
}

export interface PackageSpec {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  /** Extra bytes in the tarball (a file of this many pseudo-random bytes). */
  padding?: number;
  readme?: string;
}

/** A package folder ready for `npm publish`. */
export async function writePackage(dir: string, p: PackageSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const pkg: Record<string, unknown> = { name: p.name, version: p.version, description: `test package ${p.name}`, main: 'index.js', license: 'MIT' };
  if (p.dependencies) pkg['dependencies'] = p.dependencies;
  if (p.bin) pkg['bin'] = p.bin;
  if (p.scripts) pkg['scripts'] = p.scripts;
  await writeFile(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  await writeFile(join(dir, 'index.js'), `module.exports = ${JSON.stringify(`${p.name}@${p.version}`)};\n`);
  if (p.bin) for (const f of Object.values(p.bin)) await writeFile(join(dir, f), `#!/usr/bin/env node\nconsole.log(${JSON.stringify(p.name)});\n`);
  if (p.readme) await writeFile(join(dir, 'README.md'), p.readme);
  if (p.padding) {
    const b = new Uint8Array(p.padding);
    let x = 2463534242;
    for (let i = 0; i < b.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    await writeFile(join(dir, 'blob.bin'), b);
  }
  return dir;
}

export interface Verdaccio {
  url: string;
  /** A token of the user `alice`, who may publish. */
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A real Verdaccio on loopback: the upstream registry of the tests (no uplinks), or a caching proxy of one (`uplink`). */
export async function startVerdaccio(dir: string, opts: { port?: number; publicUrl?: string; uplink?: string; storage?: string; configName?: string } = {}): Promise<Verdaccio> {
  const bin = await toolPath('verdaccio');
  const storage = opts.storage ?? join(dir, 'storage');
  await mkdir(storage, { recursive: true });
  const port = opts.port ?? (await freePort());
  // With an uplink it is a caching proxy of that registry (the peer the npm bench compares with).
  const access = `{ access: $all, publish: $authenticated, unpublish: $authenticated${opts.uplink ? ', proxy: up' : ''} }`;
  const config = [
    `storage: ${storage}`,
    'auth:',
    '  htpasswd:',
    `    file: ${join(dir, 'htpasswd')}`,
    '    max_users: 100',
    ...(opts.uplink ? ['uplinks:', '  up:', `    url: ${opts.uplink}`, '    timeout: 60s', '    max_fails: 1000'] : ['uplinks: {}']),
    'packages:',
    `  '@*/*': ${access}`,
    `  '**': ${access}`,
    'max_body_size: 500mb',
    'web:',
    '  enable: false',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n');
  const configPath = join(dir, opts.configName ?? 'config.yaml');
  await writeFile(configPath, config);
  const child = spawn(bin, ['--config', configPath, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The URL its documents name (tarballs): a relay in front of it, so what we fetch is counted.
    env: { ...process.env, NO_COLOR: '1', ...(opts.publicUrl ? { VERDACCIO_PUBLIC_URL: opts.publicUrl } : {}) },
  });
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ping`, 30_000, child);
  const login = JSON.stringify({ name: 'alice', password: 'alice-password-1' });
  let res = await fetch(`${url}/-/user/org.couchdb.user:alice`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: login });
  // A second Verdaccio over the same users: alice exists, so log in as her instead.
  if (res.status === 409) res = await fetch(`${url}/-/user/org.couchdb.user:alice`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Basic ${btoa('alice:alice-password-1')}` }, body: login });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`verdaccio gave no token: ${res.status} ${JSON.stringify(body)}`);
  return { url, token: body.token, child, stop: () => stopChild(child) };
}

/** A publish document as npm sends it, for a tarball of any bytes. */
export function publishDoc(name: string, version: string, tgz: Uint8Array, over: { integrity?: string; data?: string; tag?: string; manifest?: Record<string, unknown> } = {}): string {
  const integrity = over.integrity ?? `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const shasum = createHash('sha1').update(tgz).digest('hex');
  const file = `${name.slice(name.lastIndexOf('/') + 1)}-${version}.tgz`;
  return JSON.stringify({
    _id: name,
    name,
    'dist-tags': { [over.tag ?? 'latest']: version },
    versions: { [version]: { name, version, description: 'made by the test', ...over.manifest, dist: { integrity, shasum, tarball: `http://x/${name}/-/${file}` } } },
    _attachments: { [file]: { content_type: 'application/octet-stream', data: over.data ?? Buffer.from(tgz).toString('base64'), length: tgz.byteLength } },
  });
}
