import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, stopChild, waitForHttp } from './net.ts';
import { tempDir } from './tmp.ts';

/** Where Debian installs the CNCF distribution registry (package docker-registry). */
export const REGISTRY_BIN = process.env['DOCKER_REGISTRY_BIN'] ?? '/usr/bin/docker-registry';

export interface RegistryOptions {
  /** Serve this storage folder (share one between a plain and a token-auth registry). */
  rootDir?: string;
  /** Token auth: the issuer's realm URL, service, issuer name and its certificate bundle. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** Pull-through proxy mode (proxy.remoteurl), the peer we compare with in bench/. */
  proxyRemoteUrl?: string;
}

export interface RunningRegistry {
  url: string;
  port: number;
  rootDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts Debian's docker-registry on a free loopback port with a config written for it. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  const work = await tempDir('registry-');
  const rootDir = opts.rootDir ?? join(work.path, 'storage');
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${rootDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (opts.token) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${opts.token.realm}`,
      `    service: ${opts.token.service}`,
      `    issuer: ${opts.token.issuer}`,
      `    rootcertbundle: ${opts.token.rootCertBundle}`,
    );
  }
  if (opts.proxyRemoteUrl) lines.push('proxy:', `  remoteurl: ${opts.proxyRemoteUrl}`);
  const cfg = join(work.path, 'config.yml');
  await writeFile(cfg, `${lines.join('\n')}\n`);
  const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`, 15_000, child);
  } catch (e) {
    await stopChild(child);
    throw new Error(`docker-registry did not start: ${String(e)}\n${stderr}`);
  }
  return {
    url,
    port,
    rootDir,
    child,
    stop: async () => {
      await stopChild(child);
      await work.cleanup();
    },
  };
}
