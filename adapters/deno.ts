import { createApp } from '../src/app.ts';
import { boot } from '../src/boot.ts';
import { scheduleMaintenance } from '../src/jobs/maintenance.ts';
import { denoReadHandle } from './deno-file.ts';
import type { DenoFsFile } from './deno-file.ts';
import { envClientAddress, fail, lineBatcher, listenFailure, loadConfig, reloadConfig, routeConsole, splitListen } from './common.ts';

// Deno adapter: `deno task serve`. The few Deno APIs we use, typed here.
declare const Deno: {
  version: { deno: string };
  args: string[];
  env: { toObject(): Record<string, string> };
  exit(code: number): never;
  stdout: { writeSync(p: Uint8Array): number };
  stderr: { writeSync(p: Uint8Array): number };
  open(path: string): Promise<DenoFsFile>;
  addSignalListener(sig: 'SIGTERM' | 'SIGINT' | 'SIGHUP', fn: () => void): void;
  serve(
    o: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void },
    handler: (req: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
};

const encoder = new TextEncoder();
// Straight to stdout: console.* is routed into this logger (routeConsole) and must not loop.
const lines = lineBatcher((text) => {
  const bytes = encoder.encode(text);
  for (let at = 0; at < bytes.length; ) at += Deno.stdout.writeSync(bytes.subarray(at));
});
// Deno.exit and the end of the program dispatch `unload`: the last lines are written first.
(globalThis as unknown as EventTarget).addEventListener('unload', lines.flush);
const { config, source } = await loadConfig(Deno.args, Deno.env.toObject()).catch((e: unknown) => fail(e, Deno.exit));
const server = await boot({
  config,
  runtime: {
    name: 'deno',
    version: Deno.version.deno,
    // Deno's own file API under the core's watched stream: faster than node:fs compatibility, and
    // unlike Deno's native file stream it needs no wrapping layer for the download guard.
    openFile: (path) => denoReadHandle(Deno.open, path),
    clientAddress: envClientAddress,
  },
  logSink: lines.sink,
});
routeConsole(server.log);
const app = createApp(server);
const stopGc = scheduleMaintenance(server);
const stopEviction = server.evictor.schedule();
const { hostname, port } = splitListen(config.listen);
function listen(): { shutdown(): Promise<void> } {
  try {
    return Deno.serve(
      { hostname, port, onListen: (a) => server.log.info('listening', { address: a.hostname, port: a.port, runtime: 'deno', config: source }) },
      (req, info) => app.fetch(req, { address: info.remoteAddr.hostname }),
    );
  } catch (e) {
    Deno.stderr.writeSync(encoder.encode(`${listenFailure(e, config.listen)}\n`));
    return Deno.exit(2);
  }
}
const http = listen();
const stop = (): void => {
  stopGc();
  stopEviction();
  server.log.info('shutting down', {});
  void http.shutdown().then(() => Deno.exit(0));
};
Deno.addSignalListener('SIGTERM', stop);
Deno.addSignalListener('SIGINT', stop);
Deno.addSignalListener('SIGHUP', () => void reloadConfig(server, Deno.args, Deno.env.toObject()));
