import { serve } from '@hono/node-server';
import { createApp } from '../src/app.ts';
import { boot } from '../src/boot.ts';
import { scheduleMaintenance } from '../src/jobs/maintenance.ts';
import { nodeFetch } from './node-fetch.ts';
import { PromptHeadersResponse } from './node-response.ts';
import { nodeSendFile, nodeSendStream } from './node-send.ts';
import { fail, lineBatcher, listenFailure, loadConfig, nodeClientAddress, reloadConfig, routeConsole, splitListen } from './common.ts';

// Node adapter: `npm start` (compiled) or `tsx adapters/node.ts` in development.
const exit = (code: number): never => process.exit(code);
const lines = lineBatcher((text) => process.stdout.write(text));
// Every way out (process.exit, an uncaught error) passes here: the last lines are written first.
process.on('exit', lines.flush);
const { config, source } = await loadConfig(process.argv.slice(2), process.env).catch((e: unknown) => fail(e, exit));
const server = await boot({
  config,
  runtime: { name: 'node', version: process.versions.node, clientAddress: nodeClientAddress, sendFile: nodeSendFile, sendStream: nodeSendStream },
  logSink: lines.sink,
  // BINARYREPO_NODE_FETCH=undici: the global fetch for upstream requests (A/B in bench/upstream-fetch.ts,
  // or a way back should the node:http path misbehave with some upstream).
  ...(process.env['BINARYREPO_NODE_FETCH'] === 'undici' ? {} : { fetch: nodeFetch }),
});
routeConsole(server.log);
const app = createApp(server);
const stopGc = scheduleMaintenance(server);
const stopEviction = server.evictor.schedule();
const { hostname, port } = splitListen(config.listen);
const http = serve(
  {
    // A Response's statusText becomes the reason phrase (@hono/node-server writes the status alone,
    // and Node then keeps a statusMessage set before): clients that print only the status line
    // (podman, skopeo on a 5xx) show why.
    fetch: (req: Request, env: unknown) => {
      const reason = (res: Response): Response => {
        if (res.status >= 500 && res.statusText) {
          const out = (env as { outgoing?: { statusMessage: string; headersSent: boolean } } | undefined)?.outgoing;
          if (out && !out.headersSent) out.statusMessage = res.statusText;
        }
        return res;
      };
      // No extra await on the hot path: only a pending answer waits for its reason.
      const res = app.fetch(req, env as object);
      return res instanceof Promise ? res.then(reason) : reason(res);
    },
    hostname,
    port,
    // Node's 300 s requestTimeout would cut slow pulls and large pushes; bodies have idle timeouts.
    serverOptions: {
      requestTimeout: 0,
      headersTimeout: config.http.headersTimeoutSeconds * 1000,
      keepAliveTimeout: config.http.keepAliveSeconds * 1000,
      // Node enforces headersTimeout only when it sweeps connections (every 30 s by default).
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, (config.http.headersTimeoutSeconds * 1000) / 4)),
      ServerResponse: PromptHeadersResponse,
    },
  },
  (info) => server.log.info('listening', { address: info.address, port: info.port, runtime: 'node', config: source }),
);
http.on('error', (e: unknown) => {
  process.stderr.write(`${listenFailure(e, config.listen)}\n`);
  exit(2);
});
const stop = (): void => {
  stopGc();
  stopEviction();
  server.log.info('shutting down', {});
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => void reloadConfig(server, process.argv.slice(2), process.env));
