import { createApp } from '../src/app.ts';
import { boot } from '../src/boot.ts';
import { scheduleMaintenance } from '../src/jobs/maintenance.ts';
import { envClientAddress, fail, lineBatcher, listenFailure, loadConfig, reloadConfig, routeConsole, splitListen } from './common.ts';

// Bun adapter: `bun run serve`. The few Bun APIs we use, typed here rather than pulling bun-types.
interface BunFile {
  slice(start: number, end: number): Blob;
}
interface BunServer {
  port: number;
  hostname: string;
  stop(closeActive?: boolean): void;
}
declare const Bun: {
  version: string;
  file(path: string): BunFile;
  serve(o: {
    fetch: (req: Request, server: { requestIP(req: Request): { address: string } | null }) => Response | Promise<Response>;
    hostname: string;
    port: number;
      maxRequestBodySize: number;
      idleTimeout: number;
  }): BunServer;
};

const exit = (code: number): never => process.exit(code);
const lines = lineBatcher((text) => process.stdout.write(text));
process.on('exit', lines.flush);
const { config, source } = await loadConfig(process.argv.slice(2), process.env).catch((e: unknown) => fail(e, exit));
const server = await boot({
  config,
  // Bun drops a handler-set Content-Length on stream bodies; a Blob slice keeps it and uses sendfile.
  runtime: {
    name: 'bun',
    version: Bun.version,
    fileBody: async (path, start, end) => Bun.file(path).slice(start, end + 1),
    clientAddress: envClientAddress,
  },
  logSink: lines.sink,
});
routeConsole(server.log);
const app = createApp(server);
const stopGc = scheduleMaintenance(server);
const stopEviction = server.evictor.schedule();
const { hostname, port } = splitListen(config.listen);
function listen(): BunServer {
  try {
    return Bun.serve({
      fetch: (req, srv) => app.fetch(req, { address: srv.requestIP(req)?.address }),
      hostname,
      port,
      // Bun's defaults (128 MiB bodies, 10 s idle) cut large layers.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // Bun's one idle timeout (seconds, at most 255) covers slow headers, silent bodies and keep-alive.
      idleTimeout: Math.min(255, Math.max(config.http.headersTimeoutSeconds, config.http.keepAliveSeconds, config.http.bodyIdleSeconds)),
    });
  } catch (e) {
    process.stderr.write(`${listenFailure(e, config.listen)}\n`);
    return exit(2);
  }
}
const http = listen();
server.log.info('listening', { address: http.hostname, port: http.port, runtime: 'bun', config: source });
const stop = (): void => {
  stopGc();
  stopEviction();
  server.log.info('shutting down', {});
  http.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => void reloadConfig(server, process.argv.slice(2), process.env));
