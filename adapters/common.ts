import { readFile } from 'node:fs/promises';
import { DEFAULT_CONFIG, parseConfigText, validateConfig } from '../src/config/load.ts';
import type { Server } from '../src/boot.ts';
import type { Config } from '../src/config/schema.ts';
import type { Logger } from '../src/log.ts';

/**
 * What every adapter does the same way: find the config (--config <file>, else BINARYREPO_CONFIG,
 * else the embedded default), parse it, and split the listen address. node:fs/promises is shipped
 * by Node, Bun and Deno alike.
 */
export async function loadConfig(argv: string[], env: Record<string, string | undefined>): Promise<{ config: Config; source: string }> {
  let file = env['BINARYREPO_CONFIG'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--config') file = argv[++i];
    else if (a.startsWith('--config=')) file = a.slice('--config='.length);
  }
  if (!file) return { config: validateConfig(DEFAULT_CONFIG, env), source: 'embedded default' };
  const text = await readFile(file, 'utf8');
  return { config: parseConfigText(text, file, env), source: file };
}

export function splitListen(listen: string): { hostname: string; port: number } {
  const i = listen.lastIndexOf(':');
  let host = listen.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { hostname: host || '0.0.0.0', port: Number(listen.slice(i + 1)) };
}

/** Prints a config error the way a person wants to read it, then exits non-zero. */
export function fail(e: unknown, exit: (code: number) => never): never {
  console.error(e instanceof Error ? e.message : String(e));
  return exit(2);
}

/**
 * SIGHUP: read the config file again and apply what can change on a running server (users,
 * passwords, admins, permissions, token lifetime). A config that fails to parse changes nothing.
 */
export async function reloadConfig(server: Server, argv: string[], env: Record<string, string | undefined>): Promise<void> {
  try {
    const { config, source } = await loadConfig(argv, env);
    const notes = server.access.reload(config);
    server.log.info('config reloaded', { config: source, applied: 'users, permissions, token lifetime', notes });
  } catch (e) {
    server.log.error('config reload failed; the running config stays', { error: e instanceof Error ? e.message : String(e) });
  }
}

/** @hono/node-server passes `{ incoming, outgoing }` as the env: the socket knows the peer. */
export function nodeClientAddress(_req: Request, env: unknown): string | undefined {
  return (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
}

/** Bun and Deno adapters pass `{ address }` as the env of app.fetch. */
export function envClientAddress(_req: Request, env: unknown): string | undefined {
  return (env as { address?: string } | undefined)?.address;
}

/**
 * What the runtime or a library prints with console.* (a stream error's stack trace from the HTTP
 * server, a deprecation notice) becomes one JSON log line, so stdout stays one JSON object per line
 * for log shippers. The logger's own sink must not use console (it would come back here).
 */
export function routeConsole(log: Logger): void {
  const text = (args: unknown[]): string =>
    args.map((a) => (a instanceof Error ? (a.stack ?? a.message) : typeof a === 'string' ? a : safeJson(a))).join(' ');
  console.error = (...a: unknown[]) => log.error('runtime', { text: text(a) });
  console.warn = (...a: unknown[]) => log.warn('runtime', { text: text(a) });
  console.info = (...a: unknown[]) => log.info('runtime', { text: text(a) });
  console.log = (...a: unknown[]) => log.info('runtime', { text: text(a) });
  console.debug = (...a: unknown[]) => log.debug('runtime', { text: text(a) });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
