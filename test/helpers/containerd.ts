import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, stopChild } from './net.ts';
import type { RunResult } from './net.ts';

export interface Containerd {
  /** `ctr` against this daemon, in a namespace (each namespace has its own images and leases). */
  ctr(args: string[], namespace?: string): Promise<RunResult>;
  /** A certs.d-style folder for `--hosts-dir`: hosts(registry, toml) writes <dir>/<registry>/hosts.toml. */
  hosts(registry: string, toml: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Debian's containerd as its own daemon (own root, state and socket under `dir`; no CRI plugin), the
 * client stack of Kubernetes nodes and of Docker's containerd image store. `ctr` does the registry
 * work (resolve, token flow, fetch, push) with containerd's own resolver.
 */
export async function startContainerd(dir: string): Promise<Containerd> {
  const sock = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    [
      'version = 2',
      `root = "${join(dir, 'root')}"`,
      `state = "${join(dir, 'state')}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '',
    ].join('\n'),
  );
  const child = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const ctr = (args: string[], namespace = 'default'): Promise<RunResult> =>
    run('ctr', ['--address', sock, '--namespace', namespace, ...args], { timeoutMs: 120_000 });
  const until = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`containerd exited with ${child.exitCode}\n${stderr}`);
    if ((await ctr(['version'])).code === 0) break;
    if (Date.now() > until) {
      await stopChild(child);
      throw new Error(`containerd did not start\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const hostsDir = join(dir, 'certs.d');
  return {
    ctr,
    hosts: async (registry, toml) => {
      await mkdir(join(hostsDir, registry), { recursive: true });
      await writeFile(join(hostsDir, registry, 'hosts.toml'), toml);
      return hostsDir;
    },
    stop: () => stopChild(child),
  };
}
