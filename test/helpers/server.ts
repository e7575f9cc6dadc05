import { createApp } from '../../src/app.ts';
import { boot } from '../../src/boot.ts';
import type { Server } from '../../src/boot.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { FetchFn } from '../../src/upstream/auth.ts';
import { nodeClientAddress } from '../../adapters/common.ts';
import { nodeFetch } from '../../adapters/node-fetch.ts';
import { nodeSendFile, nodeSendStream } from '../../adapters/node-send.ts';
import { listenLoopback } from './listen.ts';
import { s3Options } from './s3.ts';
import { tempDir } from './tmp.ts';

async function s3Storage(dir: string): Promise<Record<string, unknown>> {
  const o = await s3Options(`${dir}/spool`);
  return { type: 's3', endpoint: o.endpoint, bucket: o.bucket, region: o.region, accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, forcePathStyle: true, prefix: o.prefix, spoolDir: o.spoolDir };
}

export interface TestServer {
  url: string;
  server: Server;
  dataDir: string;
  logs: string[];
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Raw config (validated like a file would be); storage and listen are filled in. */
  config: Record<string, unknown>;
  dataDir?: string;
  fetch?: FetchFn;
  now?: () => number;
}

/** binaryrepo in this process on 127.0.0.1:<free port>, over a real socket. */
export async function startServer(opts: TestServerOptions): Promise<TestServer> {
  const tmp = opts.dataDir ? undefined : await tempDir('binaryrepo-data-');
  const dataDir = opts.dataDir ?? tmp?.path ?? '';
  // BINARYREPO_TEST_STORAGE=s3 runs a suite's in-process servers on a fresh prefix of the test bucket
  // (Ceph RGW) instead of a folder: the formats' tests against the S3 driver, where they do not read files.
  const storage = process.env['BINARYREPO_TEST_STORAGE'] === 's3' && !opts.dataDir ? await s3Storage(dataDir) : { type: 'fs', path: dataDir };
  const config = validateConfig({ listen: '127.0.0.1:0', storage, ...opts.config });
  const logs: string[] = [];
  const server = await boot({
    config,
    // The Node adapter's caps, native file send included: in-process tests serve as `npm start` does.
    runtime: { name: 'node', version: process.versions.node, clientAddress: nodeClientAddress, sendFile: nodeSendFile, sendStream: nodeSendStream },
    logSink: (l) => logs.push(l),
    // The Node adapter's upstream fetch too (node:http, native bodies), unless a test brings its own.
    fetch: opts.fetch ?? nodeFetch,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const app = createApp(server);
  const http = await listenLoopback(app.fetch);
  return {
    url: http.url,
    server,
    dataDir,
    logs,
    close: async () => {
      await http.close();
      // Downloads that outlive their clients still commit and link; let them before the folder goes.
      await server.fills.idle();
      server.notifier.stop();
      await tmp?.cleanup();
    },
  };
}

/** A remote repo config pointing at an upstream URL. */
export function remoteRepo(
  name: string,
  url: string,
  extra: { upstream?: Record<string, unknown>; cache?: Record<string, unknown>; [k: string]: unknown } = {},
): Record<string, unknown> {
  const { upstream, ...rest } = extra;
  return { name, format: 'docker', type: 'remote', ...rest, upstream: { url, ...upstream } };
}
