import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, stopChild, waitForPort } from '../test/helpers/net.ts';
import { NGINX_BIN } from '../test/helpers/nginx.ts';
import { startProcessServer } from '../test/helpers/process-server.ts';
import type { ProcessServer, RuntimeName } from '../test/helpers/process-server.ts';
import { PULL_ACCEPT } from '../test/helpers/pull.ts';
import { startRegistry } from '../test/helpers/registry.ts';
import type { RunningRegistry } from '../test/helpers/registry.ts';
import type { BenchImage } from './images.ts';

/** A pull target that starts empty (cold) and stays up for the warm pull. */
export interface Instance {
  base: string;
  /** The server's process id, for peak-RSS readings (binaryrepo only). */
  pid?: number;
  stop(): Promise<void>;
}

export interface Candidate {
  name: string;
  start(): Promise<Instance>;
}

let seq = 0;

export function binaryrepo(rt: RuntimeName, upstream: string, work: string): Candidate {
  return {
    name: `binaryrepo (${rt})`,
    start: async () => {
      const dir = join(work, `br-${seq++}`);
      await mkdir(dir, { recursive: true });
      const srv: ProcessServer = await startProcessServer(rt, {
        storage: { type: 'fs', path: join(dir, 'data') },
        log: { requests: false },
        repos: [{ name: 'hub', format: 'docker', type: 'remote', upstream: { url: upstream } }],
      }, dir, { compiled: true });
      return { base: `${srv.url}/repo/hub`, ...(srv.child.pid ? { pid: srv.child.pid } : {}), stop: () => srv.stop() };
    },
  };
}

export function cncfProxy(upstream: string): Candidate {
  return {
    name: 'CNCF registry proxy',
    start: async () => {
      const reg: RunningRegistry = await startRegistry({ proxyRemoteUrl: upstream });
      return { base: reg.url, ...(reg.child.pid ? { pid: reg.child.pid } : {}), stop: () => reg.stop() };
    },
  };
}

/**
 * nginx serving the upstream registry's own blob files (sendfile) and manifests written out as
 * static files: the practical limit of this machine for a warm pull.
 */
export async function startNginxPeer(origin: RunningRegistry, images: BenchImage[], work: string): Promise<Instance> {
  const prefix = join(work, 'nginx-peer');
  const manifests = join(prefix, 'manifests');
  for (const img of images) {
    const res = await fetch(`${origin.url}/v2/${img.name}/manifests/${img.tag}`, { headers: { accept: PULL_ACCEPT } });
    const bytes = new Uint8Array(await res.arrayBuffer());
    await mkdir(join(manifests, img.name, 'manifests'), { recursive: true });
    await writeFile(join(manifests, img.name, 'manifests', img.tag), bytes);
  }
  const port = await freePort();
  const blobs = join(origin.rootDir, 'docker/registry/v2/blobs/sha256');
  const conf = `
worker_processes auto;
# The bench runs as root with its files in a private temp folder; workers must be able to read them.
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log error;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path ${prefix}/tmp;
  server {
    listen 127.0.0.1:${port};
    location ~ "^/v2/.+/blobs/sha256:([0-9a-f]{2})([0-9a-f]{62})$" {
      default_type application/octet-stream;
      alias ${blobs}/$1/$1$2/data;
    }
    location ~ "^/v2/(.+)/manifests/([^/]+)$" {
      default_type application/vnd.docker.distribution.manifest.v2+json;
      alias ${manifests}/$1/manifests/$2;
    }
  }
}
`;
  await mkdir(join(prefix, 'tmp'), { recursive: true });
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', confPath, '-g', 'daemon off;'], { stdio: 'ignore' });
  await waitForPort(port, 10_000, child);
  return { base: `http://127.0.0.1:${port}`, stop: () => stopChild(child, 'SIGQUIT') };
}
