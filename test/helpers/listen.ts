import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { run } from './net.ts';
import type { RunResult } from './net.ts';

type FetchHandler = (req: Request) => Response | Promise<Response>;

/** Serves a fetch handler on 127.0.0.1:<free port> (or `port`); close() also drops keep-alive sockets. */
export async function listenLoopback(fetch: FetchHandler, port = 0): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const http = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port }, () => resolve(s));
  });
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((r) => {
        http.close(() => r());
        (http as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

/** podman with its own storage under `root` (vfs: no overlay or fuse needed), as root in a sandbox. */
export function podmanIn(root: string): (args: string[]) => Promise<RunResult> {
  return (args) =>
    run('podman', ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', ...args], {
      timeoutMs: 300_000,
    });
}
