import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { freePort, run, stopChild, waitForPort } from './net.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const NGINX_BIN = process.env['NGINX_BIN'] ?? '/usr/sbin/nginx';

/** Makes the CA and server certificate with the project's own script (what `make setup-certs` runs). */
export async function makeCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const r = await run('sh', [join(ROOT, 'nginx/setup-certs.sh'), dir]);
  if (r.code !== 0) throw new Error(`setup-certs failed: ${r.stderr}`);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

export interface RunningNginx {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** nginx from the project's template, on a free loopback port, in front of `backend`. */
export async function startNginx(opts: { backend: string; repo: string; dir: string; cert: string; key: string }): Promise<RunningNginx> {
  const port = await freePort();
  const prefix = join(opts.dir, 'nginx');
  await mkdir(prefix, { recursive: true });
  const conf = (await readFile(join(ROOT, 'nginx/binaryrepo.conf.template'), 'utf8'))
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@BACKEND@', opts.backend)
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`)
    .replaceAll('@EXTRA_NAMES@', 'localhost 127.0.0.1')
    .replaceAll('@CERT@', opts.cert)
    .replaceAll('@KEY@', opts.key)
    .replaceAll('@REPO@', opts.repo);
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = await spawnNginx(prefix, confPath, port);
  return { url: `https://127.0.0.1:${port}`, port, child, stop: () => stopChild(child, 'SIGQUIT') };
}

/** nginx (nginx/replicas.conf.template) balancing over several replicas, TLS on a free loopback port. */
export async function startBalancer(opts: { backends: string[]; dir: string; cert?: string; key?: string }): Promise<RunningNginx> {
  const port = await freePort();
  const prefix = join(opts.dir, 'nginx-lb');
  await mkdir(prefix, { recursive: true });
  let template = await readFile(join(ROOT, 'nginx/replicas.conf.template'), 'utf8');
  // Without a certificate (the bench): plain HTTP, the same proxying.
  if (!opts.cert || !opts.key) template = template.replace(' ssl http2;', ';').replace(/^\s*ssl_certificate.*\n/gm, '').replace('X-Forwarded-Proto https', 'X-Forwarded-Proto http');
  const conf = template
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@SERVERS@', opts.backends.map((b) => `    server ${b.replace('http://', '')};`).join('\n'))
    .replaceAll('@LISTEN@', `127.0.0.1:${port}`)
    .replaceAll('@NAMES@', 'localhost 127.0.0.1')
    .replaceAll('@CERT@', opts.cert ?? '')
    .replaceAll('@KEY@', opts.key ?? '');
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = await spawnNginx(prefix, confPath, port);
  return { url: `${opts.cert ? 'https' : 'http'}://127.0.0.1:${port}`, port, child, stop: () => stopChild(child, 'SIGQUIT') };
}

/**
 * Certificates, a podman trust folder and nginx in front of `backend` for `repo`, in `dir`.
 * podman's --cert-dir takes a folder of CA files (*.crt); a *.key there would be a client key.
 */
export async function startTlsFrontDoor(dir: string, backend: string, repo: string): Promise<{ ngx: RunningNginx; certDir: string }> {
  const certs = await makeCerts(join(dir, 'certs'));
  const certDir = join(dir, 'trust');
  await mkdir(certDir);
  await copyFile(certs.ca, join(certDir, 'ca.crt'));
  const ngx = await startNginx({ backend: backend.replace('http://', ''), repo, dir, cert: certs.cert, key: certs.key });
  return { ngx, certDir };
}

/**
 * nginx serving a folder as static files on a loopback port (ETag and Last-Modified on, as nginx
 * does by default): the upstream of generic remote repos in tests. `restart()` brings it back on
 * the same port after `stop()` (an upstream outage and its end).
 */
export async function startStaticNginx(root: string, dir: string): Promise<RunningNginx & { restart(): Promise<void> }> {
  const port = await freePort();
  const prefix = join(dir, 'nginx-static');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  // Workers read the test's private temp folder: as root they must stay root (ignored otherwise).
  const conf = `${prelude(prefix, 1, 256)}
  types { text/plain txt; application/gzip gz; application/octet-stream bin; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  let child: ChildProcess;
  const launch = async (): Promise<void> => {
    child = await spawnNginx(prefix, confPath, port);
  };
  await launch();
  const running = {
    url: `http://127.0.0.1:${port}`,
    port,
    get child() {
      return child;
    },
    stop: () => stopChild(child, 'SIGQUIT'),
    restart: launch,
  };
  return running;
}

/** nginx with a config file, once it listens on `port` (its stderr in the error when it does not). */
async function spawnNginx(prefix: string, confPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(NGINX_BIN, ['-p', prefix, '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, 10_000, child);
  } catch (e) {
    throw new Error(`nginx did not start: ${String(e)}\n${stderr}`);
  }
  return child;
}

/**
 * nginx as the pull-through cache a team would set up by hand in front of a file repository (Maven,
 * generic trees): `proxy_cache` keeping every 200 for a day, one upstream request per missing key
 * (`proxy_cache_lock`), the bench's peer for path-addressed formats.
 */
export async function startProxyCacheNginx(upstream: string, dir: string, opts: { rewriteOrigin?: string } = {}): Promise<RunningNginx> {
  const port = await freePort();
  // A registry document naming the upstream's own origin (Cargo's config.json "dl") names the cache instead.
  const rewrite = opts.rewriteOrigin
    ? `location ~ /config\\.json$ {\n      proxy_pass ${upstream};\n      proxy_set_header Accept-Encoding "";\n      sub_filter_types *;\n      sub_filter_once off;\n      sub_filter '${opts.rewriteOrigin}' 'http://127.0.0.1:${port}';\n    }`
    : '';
  const prefix = join(dir, 'nginx-proxy-cache');
  await mkdir(join(prefix, 'logs'), { recursive: true });
  const conf = `${prelude(prefix, 2, 1024)}
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=files:32m max_size=10g inactive=7d use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache files;
      proxy_cache_valid 200 1d;
      proxy_cache_valid 404 1m;
      proxy_cache_lock on;
      proxy_cache_use_stale error timeout http_502 http_503 http_504;
      proxy_ignore_headers Cache-Control Expires;
    }
    ${rewrite}
  }
}
`;
  const confPath = join(prefix, 'nginx.conf');
  await writeFile(confPath, conf);
  const child = await spawnNginx(prefix, confPath, port);
  return { url: `http://127.0.0.1:${port}`, port, child, stop: () => stopChild(child, 'SIGQUIT') };
}

/** The top of an nginx.conf for a test-owned prefix (temp paths inside it; root workers when we are root). */
function prelude(prefix: string, workers: number, connections: number): string {
  return `daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes ${workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections ${connections}; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  sendfile on;`;
}
