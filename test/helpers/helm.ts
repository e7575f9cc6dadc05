import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { run } from './net.ts';
import type { RunResult } from './net.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The helm binary the tests use: `HELM_BIN`, else the one `make setup-helm` installs (pinned, with
 * `go install` from the module proxy) under .build/bin. helm is a hard requirement of the tests.
 */
export const HELM = process.env['HELM_BIN'] ?? join(ROOT, '.build', 'bin', 'helm');
if (!existsSync(HELM)) throw new Error(`helm not found at ${HELM}: run \`make setup-helm\` (go install of the pinned helm) or set HELM_BIN`);

/** Runs helm with its own config, cache and data folders under `home` (no state shared between tests). */
export function helm(home: string, args: string[], extraEnv: Record<string, string> = {}, cwd?: string): Promise<RunResult> {
  return run(HELM, args, {
    timeoutMs: 120_000,
    ...(cwd ? { cwd } : {}),
    env: {
      ...process.env,
      HOME: home,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
      HELM_REGISTRY_CONFIG: join(home, 'registry.json'),
      ...extraEnv,
    },
  });
}

export interface ChartSpec {
  name: string;
  version: string;
  description?: string;
  annotations?: Record<string, string>;
  dependencies?: Array<{ name: string; version: string; repository: string }>;
}

/** `helm create` + our Chart.yaml + `helm package` (signed when a keyring is given): the archive's path. */
export async function packageChart(home: string, dir: string, spec: ChartSpec, sign?: { key: string; keyring: string }): Promise<string> {
  await writeChart(home, dir, spec);
  const out = join(dir, 'out');
  const args = ['package', join(dir, spec.name), '-d', out, ...(sign ? ['--sign', '--key', sign.key, '--keyring', sign.keyring] : [])];
  const p = await helm(home, args);
  if (p.code !== 0) throw new Error(p.stderr);
  return join(out, `${spec.name}-${spec.version}.tgz`);
}

/** `helm create` of `<dir>/<name>` with our Chart.yaml: the chart folder. */
export async function writeChart(home: string, dir: string, spec: ChartSpec): Promise<string> {
  await mkdir(dir, { recursive: true });
  const created = await helm(home, ['create', spec.name], {}, dir);
  if (created.code !== 0) throw new Error(created.stderr);
  const yaml = [
    'apiVersion: v2',
    `name: ${spec.name}`,
    `version: ${spec.version}`,
    `description: ${JSON.stringify(spec.description ?? `the ${spec.name} chart`)}`,
    'type: application',
    'appVersion: "1.0"',
    ...(spec.annotations ? ['annotations:', ...Object.entries(spec.annotations).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`)] : []),
    ...(spec.dependencies ? ['dependencies:', ...spec.dependencies.flatMap((d) => [`  - name: ${d.name}`, `    version: ${JSON.stringify(d.version)}`, `    repository: ${JSON.stringify(d.repository)}`])] : []),
  ].join('\n');
  await writeFile(join(dir, spec.name, 'Chart.yaml'), `${yaml}\n`);
  return join(dir, spec.name);
}

/** A GnuPG key for signing charts: the legacy secret and public keyrings helm reads. */
export async function testKeyring(dir: string): Promise<{ key: string; secring: string; pubring: string }> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const key = 'Chart Signer';
  const gen = await run('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', `${key} <signer@example.test>`, 'rsa2048', 'sign', 'never']);
  if (gen.code !== 0) throw new Error(gen.stderr);
  const secring = join(dir, 'secring.gpg');
  const pubring = join(dir, 'pubring.gpg');
  for (const [flag, file] of [['--export-secret-keys', secring], ['--export', pubring]] as const) {
    const r = await run('sh', ['-c', `gpg --homedir '${home}' --batch ${flag} > '${file}'`]);
    if (r.code !== 0) throw new Error(r.stderr);
  }
  return { key, secring, pubring };
}

/** A hand-made .tgz (for malformed charts): entries as given, gzip-compressed. */
export async function tarGz(entries: Array<{ name: string; data?: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; size?: number }>): Promise<Uint8Array> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => {
      const header = { name: e.name, type: e.type ?? 'file', ...(e.linkname ? { linkname: e.linkname } : {}) };
      if ((e.type ?? 'file') !== 'file') return void p.entry(header, (err) => (err ? reject(err) : resolve()));
      p.entry({ ...header, size: Buffer.byteLength(e.data ?? '') }, e.data ?? '', (err) => (err ? reject(err) : resolve()));
    });
  }
  p.finalize();
  await done;
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

/** Bytes of a file as Uint8Array (fetch bodies). */
export async function bytesOf(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(path));
}
